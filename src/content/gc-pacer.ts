/**
 * Frees streamed buffers by bytes moved, not by time: what keeps a large transfer's memory flat
 * whatever the size and whatever the machine's load.
 *
 * Why it is needed. Node hands each socket read, file read and gunzip output to JavaScript as a
 * fresh ArrayBuffer (16-256 KiB), so a 1 GiB pull allocates 1 GiB of short-lived buffers. Their
 * memory lives outside the JavaScript heap and is freed only once a collection finds the buffer
 * dead. On its own V8 runs a young-generation collection for them only when 32 MiB have piled up
 * (v8/src/heap/heap.cc, `Heap::AllocateExternalBackingStore`: `2 * DefaultMaxSemiSpaceSize()`),
 * and a buffer that survives two young collections is promoted and waits for a full collection,
 * which external memory triggers only 64 MiB later. A timer-driven collection (what the CLI did
 * before) fires late on a busy machine, and collecting too often promotes every buffer in flight:
 * measured on a 256 MiB pull, a young collection every 256 KiB moved gave 110-131 MiB of RSS.
 *
 * The bound. Every stream that carries a blob's bytes is a paced transfer: it reports each chunk
 * to `moved`, and after `WINDOW_PER_TRANSFER` bytes per open transfer a young-generation
 * collection runs, synchronously, inside that stream's callback. Each transfer holds at most a
 * few highWaterMarks in flight (64-256 KiB stages: under 1 MiB per blob), well under its 2 MiB of
 * window, so a buffer is dead by the second collection after its allocation: none is promoted,
 * and the buffers alive or awaiting collection stay under about twice the window, per open
 * transfer, however long the blob. The figure is counted in bytes, so it holds however late
 * timers fire on a loaded machine.
 *
 * The collector is `globalThis.gc` as `node --expose-gc` installs it (bin/wasm-oci.js installs it
 * the same way); without it (a library caller's own process) pacing does nothing and V8's own
 * heuristics apply.
 */
export const WINDOW_PER_TRANSFER = 2 * 1024 * 1024;

type GcFunction = (options?: { type?: 'major' | 'minor' }) => void;

export interface PacedTransfer {
  /** `bytes` of this transfer have just passed. */
  moved(bytes: number): void;
  /** The transfer is over (ended, failed or abandoned); safe to call more than once. */
  end(): void;
}

let open = 0;
let sinceLast = 0;

export function pacedTransfer(): PacedTransfer {
  open++;
  let ended = false;
  return {
    moved(bytes: number): void {
      sinceLast += bytes;
      if (sinceLast < WINDOW_PER_TRANSFER * Math.max(1, open)) return;
      sinceLast = 0;
      const gc = (globalThis as { gc?: GcFunction }).gc;
      if (typeof gc === 'function') gc({ type: 'minor' });
    },
    end(): void {
      if (ended) return;
      ended = true;
      open--;
    },
  };
}

/** Open transfers (for tests). */
export function openPacedTransfers(): number {
  return open;
}
