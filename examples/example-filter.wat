;; example-filter: a proxy-wasm HTTP filter (ABI 0.2.1) for Envoy, Istio and ASM.
;; On every response it adds the header `resp-header-demo: added by our filter`.
;;
;; Written in WebAssembly text so it builds offline with wabt alone:
;;   wat2wasm example-filter.wat -o example-filter.wasm
;;
;; What the host needs, per the proxy-wasm ABI 0.2.1 spec and proxy-wasm-cpp-host (Envoy):
;;   - the marker export proxy_abi_version_0_2_1,
;;   - an exported memory and an allocator (proxy_on_memory_allocate) the host calls when it
;;     hands data to the module,
;;   - the callbacks it invokes: context create, VM start, configure, headers, done, log, delete.
(module
  ;; Host functions (module "env"), proxy-wasm ABI 0.2.1.
  ;; proxy_log(level, message_data, message_size) -> status
  (import "env" "proxy_log"
    (func $proxy_log (param i32 i32 i32) (result i32)))
  ;; proxy_add_header_map_value(map_type, key_data, key_size, value_data, value_size) -> status
  (import "env" "proxy_add_header_map_value"
    (func $proxy_add_header_map_value (param i32 i32 i32 i32 i32) (result i32)))

  (memory (export "memory") 1)

  ;; Constant strings. Offsets and lengths are used below; keep them in sync.
  (data (i32.const 16) "resp-header-demo")                        ;; 16 bytes at 16
  (data (i32.const 48) "added by our filter")                     ;; 19 bytes at 48
  (data (i32.const 80) "example-filter: VM started")              ;; 26 bytes at 80
  (data (i32.const 112) "example-filter: could not add header")   ;; 36 bytes at 112

  ;; proxy_map_type_t
  (global $HTTP_RESPONSE_HEADERS i32 (i32.const 2))
  ;; proxy_log_level_t
  (global $LOG_INFO i32 (i32.const 2))
  (global $LOG_WARN i32 (i32.const 3))
  ;; proxy_action_t
  (global $ACTION_CONTINUE i32 (i32.const 0))

  ;; Start of the bump allocator's heap, past the constant strings.
  (global $heap_top (mut i32) (i32.const 1024))

  ;; Marker export: tells the host which ABI this module speaks. Never called.
  (func (export "proxy_abi_version_0_2_1"))

  ;; proxy_on_memory_allocate(size) -> pointer, 0 on failure.
  ;; A bump allocator aligned to 8 bytes that grows memory as needed. It never frees: the host only
  ;; allocates when the module asks for data (this filter never does), so the heap stays small.
  (func (export "proxy_on_memory_allocate") (param $size i32) (result i32)
    (local $ptr i32)
    (local $end i32)
    (local $pages i32)
    (local.set $ptr
      (i32.and (i32.add (global.get $heap_top) (i32.const 7)) (i32.const -8)))
    (local.set $end (i32.add (local.get $ptr) (local.get $size)))
    ;; Wrapped past 4 GiB: refuse.
    (if (i32.lt_u (local.get $end) (local.get $ptr))
      (then (return (i32.const 0))))
    ;; Pages needed to hold [0, end), rounded up, without overflowing.
    (local.set $pages
      (i32.add
        (i32.shr_u (local.get $end) (i32.const 16))
        (i32.ne (i32.and (local.get $end) (i32.const 0xffff)) (i32.const 0))))
    (if (i32.gt_u (local.get $pages) (memory.size))
      (then
        (if (i32.eq (memory.grow (i32.sub (local.get $pages) (memory.size))) (i32.const -1))
          (then (return (i32.const 0))))))
    (global.set $heap_top (local.get $end))
    (local.get $ptr))

  ;; proxy_on_context_create(context_id, parent_context_id): parent 0 is the root (plugin)
  ;; context, anything else an HTTP stream. This filter keeps no per-context state.
  (func (export "proxy_on_context_create") (param $context_id i32) (param $parent_context_id i32))

  ;; proxy_on_vm_start(root_context_id, vm_configuration_size) -> bool
  (func (export "proxy_on_vm_start") (param $root_context_id i32) (param $vm_configuration_size i32) (result i32)
    (drop (call $proxy_log (global.get $LOG_INFO) (i32.const 80) (i32.const 26)))
    (i32.const 1))

  ;; proxy_on_configure(root_context_id, plugin_configuration_size) -> bool
  ;; The filter takes no configuration; any configuration is accepted.
  (func (export "proxy_on_configure") (param $root_context_id i32) (param $plugin_configuration_size i32) (result i32)
    (i32.const 1))

  ;; proxy_on_request_headers(context_id, num_headers, end_of_stream) -> action
  (func (export "proxy_on_request_headers") (param $context_id i32) (param $num_headers i32) (param $end_of_stream i32) (result i32)
    (global.get $ACTION_CONTINUE))

  ;; proxy_on_response_headers(context_id, num_headers, end_of_stream) -> action
  (func (export "proxy_on_response_headers") (param $context_id i32) (param $num_headers i32) (param $end_of_stream i32) (result i32)
    (if (i32.ne
          (call $proxy_add_header_map_value
            (global.get $HTTP_RESPONSE_HEADERS)
            (i32.const 16) (i32.const 16)
            (i32.const 48) (i32.const 19))
          (i32.const 0))
      (then
        (drop (call $proxy_log (global.get $LOG_WARN) (i32.const 112) (i32.const 36)))))
    (global.get $ACTION_CONTINUE))

  ;; proxy_on_done(context_id) -> bool: true lets the host finalize the context now.
  (func (export "proxy_on_done") (param $context_id i32) (result i32)
    (i32.const 1))

  ;; proxy_on_log(context_id)
  (func (export "proxy_on_log") (param $context_id i32))

  ;; proxy_on_delete(context_id)
  (func (export "proxy_on_delete") (param $context_id i32))
)
