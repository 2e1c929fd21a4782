/**
 * Reading and writing the guest's linear memory, as proxy-wasm-cpp-host's WasmVm::getMemory /
 * setMemory / setWord and ContextBase's "allocate in the VM and write" do (src/exports.cc: every
 * `*_ptr_ptr, *_size_ptr` result is copied into memory the module's allocator returns, then the
 * pointer and size are written as little-endian u32). An access outside the memory is
 * InvalidMemoryAccess for the host call, never a host crash.
 *
 * The allocator is picked as WasmBase::getFunctions picks it (src/wasm.cc): `malloc` when the
 * module exports it, else `proxy_on_memory_allocate` (abi.ts pickAllocator).
 */
export class InvalidMemoryAccess extends Error {
  constructor(what: string) {
    super(`invalid memory access: ${what}`);
    this.name = 'InvalidMemoryAccess';
  }
}

const utf8 = new TextDecoder('utf-8');
const utf8Encoder = new TextEncoder();

export class GuestMemory {
  constructor(
    private readonly memory: () => WebAssembly.Memory | undefined,
    private readonly allocator: ((size: number) => number) | undefined,
  ) {}

  private buffer(): ArrayBuffer {
    const m = this.memory();
    if (m === undefined) throw new InvalidMemoryAccess('the module has no memory');
    return m.buffer;
  }

  get byteLength(): number {
    return this.memory()?.buffer.byteLength ?? 0;
  }

  private check(ptr: number, len: number): ArrayBuffer {
    const buf = this.buffer();
    if (ptr < 0 || len < 0 || ptr + len > buf.byteLength) {
      throw new InvalidMemoryAccess(`${len} bytes at ${ptr} (memory is ${buf.byteLength} bytes)`);
    }
    return buf;
  }

  /** A copy of `len` bytes at `ptr`. */
  read(ptr: number, len: number): Uint8Array {
    const buf = this.check(ptr >>> 0, len >>> 0);
    return new Uint8Array(buf, ptr >>> 0, len >>> 0).slice();
  }

  readString(ptr: number, len: number): string {
    return utf8.decode(this.read(ptr, len));
  }

  write(ptr: number, data: Uint8Array): void {
    const buf = this.check(ptr >>> 0, data.length);
    new Uint8Array(buf, ptr >>> 0, data.length).set(data);
  }

  writeU32(ptr: number, value: number): void {
    const buf = this.check(ptr >>> 0, 4);
    new DataView(buf).setUint32(ptr >>> 0, value >>> 0, true);
  }

  readU32(ptr: number): number {
    const buf = this.check(ptr >>> 0, 4);
    return new DataView(buf).getUint32(ptr >>> 0, true);
  }

  writeU64(ptr: number, value: bigint): void {
    const buf = this.check(ptr >>> 0, 8);
    new DataView(buf).setBigUint64(ptr >>> 0, BigInt.asUintN(64, value), true);
  }

  /**
   * Copies `data` into memory the guest's allocator returns, and writes the pointer and size to
   * `ptrPtr` and `sizePtr` (cpp-host WasmBase::copyToPointerSize). Empty data is a null pointer
   * and size 0, as cpp-host writes it without calling the allocator.
   */
  copyOut(data: Uint8Array | string, ptrPtr: number, sizePtr: number): void {
    const bytes = typeof data === 'string' ? utf8Encoder.encode(data) : data;
    let ptr = 0;
    if (bytes.length > 0) {
      if (this.allocator === undefined) throw new InvalidMemoryAccess('the module exports no allocator (malloc or proxy_on_memory_allocate)');
      ptr = this.allocator(bytes.length) >>> 0;
      if (ptr === 0) throw new InvalidMemoryAccess(`the allocator returned 0 for ${bytes.length} bytes`);
      this.write(ptr, bytes);
    }
    this.writeU32(ptrPtr, ptr);
    this.writeU32(sizePtr, bytes.length);
  }
}
