/** One admitted post, as the API process works on it. */
export interface PostInFlight {
  /** Its body has arrived: it counts from now on, however long its upload took. */
  bodyArrived(): void;
  /** Answered, or its connection closed. Idempotent. */
  done(): void;
}

interface Upload {
  admittedAt: number;
  /** 'uploading' whether or not it still counts: being in `uploading` (the Set) says that. */
  state: 'uploading' | 'working' | 'done';
}

/**
 * How many posts this API process is working on: what busy admission asks
 * before it calls a busy event loop a flood (IngestBackpressure).
 *
 * A post counts while its body arrives, but only for `uploadGraceMs` after
 * it was admitted, and again once its body has arrived. A slowloris (uploads
 * opened and left hanging mid-body, which cost the process nothing) thus
 * stops counting after the grace, while a flood's posts count from their
 * first byte: counting only posts whose body had arrived made a flood of
 * large posts look like a few clients, since most of them were still being
 * read on the saturated loop.
 */
export class PostsInFlight {
  private working = 0;
  /** Uploads within their grace, oldest first (a Set keeps insertion order). */
  private readonly uploading = new Set<Upload>();

  constructor(
    private readonly uploadGraceMs = 1000,
    private readonly now: () => number = performance.now.bind(performance),
  ) {}

  admit(): PostInFlight {
    const upload: Upload = { admittedAt: this.now(), state: 'uploading' };
    this.uploading.add(upload);
    return {
      bodyArrived: () => {
        if (upload.state !== 'uploading') return;
        this.uploading.delete(upload);
        upload.state = 'working';
        this.working++;
      },
      done: () => {
        if (upload.state === 'working') this.working--;
        else this.uploading.delete(upload);
        upload.state = 'done';
      },
    };
  }

  count(): number {
    const cutoff = this.now() - this.uploadGraceMs;
    for (const upload of this.uploading) {
      if (upload.admittedAt > cutoff) break;
      this.uploading.delete(upload);
    }
    return this.working + this.uploading.size;
  }
}
