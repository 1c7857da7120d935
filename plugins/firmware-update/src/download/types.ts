/** How to connect: cancellation, idle timeout and extra trusted CAs for HTTPS/FTPS. */
export interface ConnectionOptions {
  readonly signal: AbortSignal;
  readonly idleTimeoutMs: number;
  /** PEM certificates trusted in addition to Node's built-in roots (private update servers). */
  readonly extraCa?: readonly string[];
}

export interface DownloadRequest extends ConnectionOptions {
  readonly url: URL;
  /** File to write; created or truncated. */
  readonly dest: string;
  /** Called with 0..100 whenever the integer percentage changes (only when the size is known). */
  readonly onProgress: (percent: number) => void;
  /**
   * Called once the size is known (or not: undefined), before any body byte is written; throws to
   * refuse the download (e.g. not enough space).
   */
  readonly onSize: (bytes: number | undefined) => Promise<void>;
}

export interface DownloadResult {
  readonly bytes: number;
}

/** Reports integer percentages, each at most once. */
export function progressReporter(total: number | undefined, onProgress: (percent: number) => void): (done: number) => void {
  let last = -1;
  return (done) => {
    if (!total) return;
    const percent = Math.min(100, Math.floor((done * 100) / total));
    if (percent !== last) {
      last = percent;
      onProgress(percent);
    }
  };
}
