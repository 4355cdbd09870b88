// Where export archives and uploaded import files live: a small port with a local-directory
// adapter (the default, EXPORT_STORAGE_DIR). A cloud bucket would implement the same four calls.
// Keys are ours (uuid-based), never user input, so they cannot escape the directory.
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export interface FileStorage {
  readonly describe: string;
  /** Writes the whole stream under `key` (replacing any earlier file); returns the bytes written. */
  put(key: string, body: Readable | Buffer): Promise<number>;
  /** The stored file, or undefined when there is none. */
  get(key: string): Promise<{ body: Readable; sizeBytes: number } | undefined>;
  /** Removes the file; a missing file is not an error. */
  delete(key: string): Promise<void>;
}

const KEY = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/;

export class LocalDirectoryStorage implements FileStorage {
  readonly describe: string;

  constructor(private readonly root: string) {
    this.root = path.resolve(root);
    this.describe = `local directory ${this.root}`;
  }

  async put(key: string, body: Readable | Buffer): Promise<number> {
    const file = this.pathOf(key);
    await mkdir(path.dirname(file), { recursive: true });
    // Written beside the target and renamed, so a reader never sees half a file.
    const partial = `${file}.partial`;
    try {
      await pipeline(Buffer.isBuffer(body) ? [body] : body, createWriteStream(partial, { mode: 0o600 }));
    } catch (err) {
      // A body that failed (too large, aborted) leaves nothing behind.
      await rm(partial, { force: true });
      throw err;
    }
    await rename(partial, file);
    return (await stat(file)).size;
  }

  async get(key: string): Promise<{ body: Readable; sizeBytes: number } | undefined> {
    const file = this.pathOf(key);
    const info = await stat(file).catch(() => undefined);
    if (!info) return undefined;
    return { body: createReadStream(file), sizeBytes: info.size };
  }

  async delete(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }

  private pathOf(key: string): string {
    if (!KEY.test(key) || key.includes('..')) throw new Error(`invalid storage key ${key}`);
    return path.join(this.root, key);
  }
}
