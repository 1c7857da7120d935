// USB update (seed 7.2): a real ext2 file system on a loop device mounted under a media root where
// that works here, else plain directories (said in the output). LED1 is ci/firmware/usb/indicator.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBackendFixture, raucUnavailableReason, type BackendFixture } from './backend-fixture.js';
import { startPlugin, type Running } from './harness.js';

const reason = raucUnavailableReason();
const kind = reason ? 'simulated' : 'rauc';
if (reason) console.log(`# real rauc cannot run here (${reason}); using the simulated A/B backend`);

/** A removable medium: a loop-mounted ext2 image when possible, else a directory. */
class Medium {
  private mounted = false;

  constructor(
    readonly path: string,
    private readonly image: string,
    private readonly useMount: boolean,
  ) {}

  /** Plug in: the medium appears under the media root with these files in its root. */
  plug(files: Record<string, string>): void {
    if (this.useMount) {
      rmSync(this.image, { force: true });
      run('mkfs.ext2', ['-q', '-F', this.image, '4096']);
      const staging = this.path + '.staging';
      mkdirSync(staging, { recursive: true });
      run('mount', ['-o', 'loop', this.image, staging]);
      for (const [name, source] of Object.entries(files)) copyFileSync(source, join(staging, name));
      run('umount', [staging]);
      rmSync(staging, { recursive: true });
      mkdirSync(this.path, { recursive: true });
      run('mount', ['-o', 'loop,ro', this.image, this.path]);
      this.mounted = true;
    } else {
      mkdirSync(this.path, { recursive: true });
      for (const [name, source] of Object.entries(files)) copyFileSync(source, join(this.path, name));
    }
  }

  unplug(): void {
    if (this.mounted) run('umount', [this.path]);
    this.mounted = false;
    rmSync(this.path, { recursive: true, force: true });
  }
}

function run(command: string, args: string[]): void {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')}: ${result.stderr || result.error?.message}`);
}

function loopMountWorks(dir: string): string | undefined {
  const image = join(dir, 'probe.img');
  const point = join(dir, 'probe');
  mkdirSync(point, { recursive: true });
  try {
    run('mkfs.ext2', ['-q', '-F', image, '1024']);
    run('mount', ['-o', 'loop', image, point]);
    run('umount', [point]);
    return undefined;
  } catch (error) {
    return (error as Error).message.split('\n')[0];
  } finally {
    rmSync(point, { recursive: true, force: true });
    rmSync(image, { force: true });
  }
}

describe(`USB firmware update (${kind} backend)`, () => {
  let root: string;
  let media: string;
  let fixture: BackendFixture;
  let useMount: boolean;
  let medium: Medium;
  let dataDir: string;
  let bundles: string;

  before(async () => {
    root = mkdtempSync(join(tmpdir(), `fw-usb-${kind}-`));
    media = join(root, 'media');
    mkdirSync(media);
    const noMount = loopMountWorks(root);
    useMount = noMount === undefined;
    if (!useMount) console.log(`# loop mounts do not work here (${noMount}); media are plain directories (usbSubdirectoriesAsMedia)`);
    fixture = await createBackendFixture(join(root, 'backend'), kind);
    bundles = join(root, 'bundles');
    mkdirSync(bundles);
    fixture.makeBundle(join(bundles, 'v5.image'), '5.0.0');
    fixture.makeBundle(join(bundles, 'v6.image'), '6.0.0');
    writeFileSync(join(bundles, 'readme.txt'), 'not an image');
    medium = new Medium(join(media, 'usb0'), join(root, 'usb0.img'), useMount);
    dataDir = join(root, 'data');
  });

  after(async () => {
    medium?.unplug();
    await fixture?.close();
    rmSync(root, { recursive: true, force: true });
  });

  const start = () =>
    startPlugin({
      dataDir,
      config: { ...fixture.config, cacheDir: join(root, 'cache'), usbMountRoots: [media], usbPollMs: 50, usbSubdirectoriesAsMedia: !useMount },
    });

  const indicator = (running: Running) => running.values('ci/firmware/usb/indicator');
  const settled = (running: Running, status: string) => running.waitFor('ci/firmware/usb/status', (v) => v === status);

  test('one *.image on the medium: LED on, blinking while installing, off when done; no reboot', async () => {
    const running = await start();
    try {
      const booted = fixture.bootloader.current();
      const done = settled(running, 'succeeded');
      medium.plug({ 'firmware.image': join(bundles, 'v5.image'), 'readme.txt': join(bundles, 'readme.txt') });
      await done;
      assert.deepEqual(indicator(running), ['off', 'on', 'blinking', 'off']);
      assert.equal(running.bus.get('ci/firmware/usb/image'), join(medium.path, 'firmware.image'));
      assert.deepEqual(
        running.values('firmware/update/state/actual').filter((v, i, all) => all[i - 1] !== v),
        ['idle', 'installing', 'install-succeeded'],
      );
      assert.equal(running.bus.get('firmware/update/result/state'), 'succeeded');
      assert.equal(fixture.bootloader.current(), booted);
    } finally {
      await running.stop();
    }
  });

  test('after the reboot the medium is seen again: recognised as installed, not installed again', async () => {
    await fixture.reboot();
    const running = await start();
    try {
      await running.api.scanUsb();
      await settled(running, 'already-installed');
      assert.deepEqual(indicator(running), ['off', 'on', 'off']);
      assert.deepEqual(running.values('firmware/update/state/actual'), ['idle'], 'nothing was installed');
      const removed = settled(running, 'no-medium');
      medium.unplug();
      await removed;
      assert.equal(running.bus.get('ci/firmware/usb/indicator'), 'off');
    } finally {
      await running.stop();
    }
  });

  test('two *.image files: none is installed, LED off', async () => {
    const running = await start();
    try {
      const done = settled(running, 'multiple-images');
      medium.plug({ 'a.image': join(bundles, 'v5.image'), 'b.image': join(bundles, 'v6.image') });
      await done;
      assert.deepEqual(indicator(running), ['off', 'on', 'off']);
      assert.deepEqual(running.values('firmware/update/state/actual'), ['idle']);
      medium.unplug();
    } finally {
      await running.stop();
    }
  });

  test('no *.image in the root: LED off, status no-image', async () => {
    const running = await start();
    try {
      const done = settled(running, 'no-image');
      medium.plug({ 'readme.txt': join(bundles, 'readme.txt') });
      await done;
      assert.deepEqual(indicator(running), ['off', 'on', 'off']);
      medium.unplug();
    } finally {
      await running.stop();
    }
  });
});
