/** An encrypted file as a client uploaded it: the server never holds a key to read it. */
export interface StoredMedia {
  bytes: Buffer;
  /** The upload path's media type (`image`, `video`, `document`, `audio`, …). */
  type: string;
  /** Which account's device uploaded it, as `pn:device`. */
  uploader: string;
  at: number;
}

/** The store holds as many bytes as it may: the upload is refused rather than anything evicted. */
export class MediaStoreFullError extends Error {
  readonly code = "media_store_full";

  constructor(size: number, held: number, capacity: number) {
    super(
      `the local media store is full: ${size} more bytes would pass its ${capacity}-byte limit (${held} held). ` +
        "Start LocalWhatsApp with a larger `media.storeBytes`, or a new server for each test.",
    );
    this.name = "MediaStoreFullError";
  }
}

/**
 * Encrypted media in memory, by path on the media host. Bounded by total bytes: past the limit an
 * upload fails loudly, because silently dropping older files would turn into a 404 far from its cause.
 */
export class MediaStore {
  readonly #files = new Map<string, StoredMedia>();
  #held = 0;
  readonly capacity: number;

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  get heldBytes(): number {
    return this.#held;
  }

  /** Throws MediaStoreFullError when `size` more bytes would not fit. */
  assertRoomFor(size: number): void {
    if (this.#held + size > this.capacity) throw new MediaStoreFullError(size, this.#held, this.capacity);
  }

  /** Paths are new random names; an existing one is replaced. */
  put(path: string, file: StoredMedia): void {
    const previous = this.#files.get(path)?.bytes.length ?? 0;
    if (this.#held - previous + file.bytes.length > this.capacity) {
      throw new MediaStoreFullError(file.bytes.length, this.#held, this.capacity);
    }
    this.#files.set(path, file);
    this.#held += file.bytes.length - previous;
  }

  get(path: string): StoredMedia | undefined {
    return this.#files.get(path);
  }

  delete(path: string): boolean {
    const file = this.#files.get(path);
    if (!file) return false;
    this.#files.delete(path);
    this.#held -= file.bytes.length;
    return true;
  }
}
