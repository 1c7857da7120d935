// The update framework under test: real rauc (file-backed slots, a test CA, bundles built here,
// its own D-Bus daemon and service) where it can run, else the simulated A/B backend.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { createSimulatedBundle, customBackendScript, FileBootloader, type FirmwareUpdateConfig } from '@opensecc/plugin-firmware-update';

export interface BackendFixture {
  readonly kind: 'rauc' | 'simulated';
  readonly bootloader: FileBootloader;
  /** Plugin config entries for this backend. */
  readonly config: Partial<FirmwareUpdateConfig>;
  /** Build a valid, signed bundle at `path` with random content. */
  makeBundle(path: string, version: string): void;
  /**
   * Build a casync bundle `<dir>/<name>.raucb` with its chunk store `<dir>/<name>.castr/` (rauc
   * convert; needs casync). Returns false when only a plain bundle could be made (said why).
   */
  makeCasyncBundle(dir: string, name: string, version: string): { chunked: boolean; why?: string };
  /** Copy a bundle with one byte of its signed content changed. */
  corrupt(source: string, dest: string): void;
  /** Simulate a reboot: the bootloader picks a slot, the boot id changes. Returns the booted slot. */
  reboot(): Promise<string>;
  close(): Promise<void>;
}

const COMPATIBLE = 'opensecc-test';

/** Why real rauc cannot run here, or undefined when it can. */
export function raucUnavailableReason(): string | undefined {
  if (process.env.FW_TEST_BACKEND === 'simulated') return 'FW_TEST_BACKEND=simulated';
  const tools: Array<[string, string[]]> = [
    ['rauc', ['--version']],
    ['dbus-daemon', ['--version']],
    ['mksquashfs', ['-version']],
    ['openssl', ['version']],
  ];
  for (const [tool, args] of tools) {
    const result = spawnSync(tool, args, { stdio: 'ignore' });
    if (result.error || result.status !== 0) return `'${tool}' is not installed (apt-get install rauc squashfs-tools dbus openssl casync)`;
  }
  if (process.getuid?.() !== 0) return 'rauc mounts bundles with loop devices, which needs root';
  if (!existsSync('/dev/loop-control')) return 'no loop devices (/dev/loop-control missing)';
  if (!readFileSync('/proc/filesystems', 'utf8').includes('squashfs')) return 'the kernel has no squashfs support';
  return undefined;
}

function flipByte(source: string, dest: string, at: (length: number) => number): void {
  const data = readFileSync(source);
  const index = at(data.length);
  data[index] = data[index]! ^ 0xff;
  writeFileSync(dest, data);
}

function writeBootIdFile(path: string): void {
  writeFileSync(path, randomUUID() + '\n');
}

export async function createBackendFixture(dir: string, kind: 'rauc' | 'simulated'): Promise<BackendFixture> {
  mkdirSync(dir, { recursive: true });
  return kind === 'rauc' ? RaucFixture.create(dir) : SimulatedFixture.create(dir);
}

class SimulatedFixture implements BackendFixture {
  readonly kind = 'simulated';
  readonly bootloader: FileBootloader;
  readonly config: Partial<FirmwareUpdateConfig>;
  private readonly privateKey: string;
  private readonly bootIdFile: string;

  private constructor(dir: string) {
    const slotDir = join(dir, 'slots');
    mkdirSync(slotDir, { recursive: true });
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    this.privateKey = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    writeFileSync(join(dir, 'keyring.pem'), publicKey.export({ type: 'spki', format: 'pem' }));
    this.bootloader = new FileBootloader(join(slotDir, 'bootenv'), { defaultAttempts: 1 });
    this.bootloader.init();
    this.bootIdFile = join(dir, 'boot_id');
    writeBootIdFile(this.bootIdFile);
    this.config = {
      backend: 'simulated',
      simulated: { slotDir, keyring: join(dir, 'keyring.pem'), compatible: COMPATIBLE },
      bootIdFile: this.bootIdFile,
    };
  }

  static async create(dir: string): Promise<SimulatedFixture> {
    return new SimulatedFixture(dir);
  }

  makeBundle(path: string, version: string): void {
    writeFileSync(path, createSimulatedBundle(randomBytes(200_000), { compatible: COMPATIBLE, version }, this.privateKey));
  }

  makeCasyncBundle(dir: string, name: string, version: string): { chunked: boolean; why?: string } {
    this.makeBundle(join(dir, `${name}.raucb`), version);
    return { chunked: false, why: 'the simulated backend has no casync chunk stores' };
  }

  corrupt(source: string, dest: string): void {
    flipByte(source, dest, (length) => length >> 2);
  }

  async reboot(): Promise<string> {
    const slot = this.bootloader.boot();
    writeBootIdFile(this.bootIdFile);
    return slot;
  }

  async close(): Promise<void> {}
}

class RaucFixture implements BackendFixture {
  readonly kind = 'rauc';
  readonly bootloader: FileBootloader;
  readonly config: Partial<FirmwareUpdateConfig>;
  private dbus: ChildProcess | undefined;
  private service: ChildProcess | undefined;
  private readonly env: Record<string, string>;

  private constructor(
    private readonly dir: string,
    busAddress: string,
    dbus: ChildProcess,
  ) {
    this.dbus = dbus;
    this.env = { DBUS_SYSTEM_BUS_ADDRESS: busAddress };
    this.bootloader = new FileBootloader(join(dir, 'bootenv'), { defaultAttempts: 1 });
    this.config = {
      backend: 'rauc',
      rauc: { path: 'rauc', args: ['--conf', join(dir, 'system.conf')], env: this.env },
      bootIdFile: join(dir, 'boot_id'),
    };
  }

  static async create(dir: string): Promise<RaucFixture> {
    run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '365', '-subj', '/CN=opensecc test signing']);
    for (const slot of ['a', 'b']) writeFileSync(join(dir, `slot-${slot}.img`), Buffer.alloc(1024 * 1024));
    mkdirSync(join(dir, 'mnt'), { recursive: true });
    // rauc's "custom" bootloader backend, on the same env file and rules as FileBootloader.
    const script = join(dir, 'bootloader.sh');
    writeFileSync(script, customBackendScript(join(dir, 'bootenv')));
    chmodSync(script, 0o755);
    writeFileSync(
      join(dir, 'system.conf'),
      [
        '[system]',
        `compatible=${COMPATIBLE}`,
        'bootloader=custom',
        `mountprefix=${join(dir, 'mnt')}`,
        `statusfile=${join(dir, 'status.raucs')}`,
        '',
        '[handlers]',
        `bootloader-custom-backend=${script}`,
        '',
        '[keyring]',
        `path=${join(dir, 'cert.pem')}`,
        '',
        '[slot.rootfs.0]',
        `device=${join(dir, 'slot-a.img')}`,
        'type=raw',
        'bootname=A',
        '',
        '[slot.rootfs.1]',
        `device=${join(dir, 'slot-b.img')}`,
        'type=raw',
        'bootname=B',
        '',
      ].join('\n'),
    );
    const socket = join(dir, 'dbus.sock');
    writeFileSync(
      join(dir, 'dbus.conf'),
      `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=${socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_type="method_call"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
  </policy>
</busconfig>
`,
    );
    const dbus = spawn('dbus-daemon', [`--config-file=${join(dir, 'dbus.conf')}`, '--nofork', '--print-address'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const address = await new Promise<string>((resolve, reject) => {
      let out = '';
      dbus.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
        out += chunk;
        if (out.includes('\n')) resolve(out.split('\n')[0]!.trim());
      });
      dbus.on('exit', (code) => reject(new Error(`dbus-daemon exited with ${code}`)));
    });
    const fixture = new RaucFixture(dir, address, dbus);
    try {
      fixture.bootloader.init();
      writeBootIdFile(join(dir, 'boot_id'));
      await fixture.startService();
    } catch (error) {
      await fixture.close();
      throw error;
    }
    return fixture;
  }

  private async startService(): Promise<void> {
    const booted = this.bootloader.current();
    const log = join(this.dir, 'rauc-service.log');
    const service = spawn('rauc', ['service', '--conf', join(this.dir, 'system.conf'), `--override-boot-slot=${booted}`], {
      env: { ...process.env, ...this.env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    service.stderr!.on('data', (chunk: Buffer) => writeFileSync(log, chunk, { flag: 'a' }));
    this.service = service;
    // The service is ready once a client gets an answer over D-Bus.
    for (let i = 0; i < 200; i++) {
      const status = spawnSync('rauc', ['status', '--output-format=json'], { env: { ...process.env, ...this.env }, encoding: 'utf8' });
      if (status.status === 0) return;
      if (service.exitCode !== null) throw new Error(`rauc service exited (${service.exitCode}); see ${log}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`rauc service did not answer on D-Bus; see ${log}`);
  }

  private async stopService(): Promise<void> {
    const service = this.service;
    if (!service || service.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      service.once('exit', () => resolve());
      service.kill('SIGTERM');
    });
  }

  makeBundle(path: string, version: string): void {
    const content = join(this.dir, `content-${randomUUID()}`);
    mkdirSync(content);
    writeFileSync(join(content, 'rootfs.img'), randomBytes(200_000));
    writeFileSync(
      join(content, 'manifest.raucm'),
      `[update]\ncompatible=${COMPATIBLE}\nversion=${version}\n\n[bundle]\nformat=plain\n\n[image.rootfs]\nfilename=rootfs.img\n`,
    );
    run('rauc', ['bundle', '--cert', join(this.dir, 'cert.pem'), '--key', join(this.dir, 'key.pem'), content, path]);
  }

  makeCasyncBundle(dir: string, name: string, version: string): { chunked: boolean; why?: string } {
    const target = join(dir, `${name}.raucb`);
    if (spawnSync('casync', ['--version'], { stdio: 'ignore' }).status !== 0) {
      this.makeBundle(target, version);
      return { chunked: false, why: "'casync' is not installed (apt-get install casync)" };
    }
    const plain = join(this.dir, `plain-${randomUUID()}.raucb`);
    this.makeBundle(plain, version);
    const pem = (file: string) => join(this.dir, file);
    run('rauc', ['convert', '--conf', pem('system.conf'), '--cert', pem('cert.pem'), '--key', pem('key.pem'), '--keyring', pem('cert.pem'), plain, target]);
    return { chunked: true };
  }

  corrupt(source: string, dest: string): void {
    // A byte inside the squashfs image: the CMS signature over it no longer verifies.
    flipByte(source, dest, (length) => length >> 2);
  }

  async reboot(): Promise<string> {
    await this.stopService();
    const slot = this.bootloader.boot();
    writeBootIdFile(join(this.dir, 'boot_id'));
    await this.startService();
    return slot;
  }

  async close(): Promise<void> {
    await this.stopService();
    const dbus = this.dbus;
    this.dbus = undefined;
    if (dbus && dbus.exitCode === null) {
      await new Promise<void>((resolve) => {
        dbus.once('exit', () => resolve());
        dbus.kill('SIGTERM');
      });
    }
  }
}

function run(command: string, args: string[]): void {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${result.stderr || result.error?.message}`);
}
