/*
 * flowsieve's whole-buffer gunzip: libdeflate (vendored in libdeflate/, MIT) behind one
 * Node-API function, built by scripts/build-native.mjs into dist/native/inflate.node.
 *
 *   gunzip(input: Uint8Array, output: Uint8Array): number
 *   gunzipAsync(input, output, limit: number, callback: (result: number) => void): boolean
 *   gunzipFileAsync(fd: number, input, output, limit: number, callback): boolean (POSIX)
 *   adviseHugePages(bytes: Uint8Array): boolean
 *   hugePagesFrom(bytes: Uint8Array): number
 *   populate(bytes: Uint8Array): boolean
 *   populateAsync(bytes: Uint8Array, ranges: Float64Array, done?: () => void): boolean
 *   releaseAsync(bytes: Uint8Array, ranges: Float64Array, done?: () => void): boolean
 *   readFilesAsync, treeWalkStart, treeWalkTake: native/files.c
 *
 * inflates the first gzip member of `input` into `output`, which must be exactly the
 * member's size (the caller sizes it from the trailer's ISIZE: a member that inflates to
 * more or fewer bytes, a bad CRC-32 or ISIZE, or damaged data is an error). Returns the
 * bytes of `input` the member took (less than input.length: more members or trailing
 * bytes follow), or -1 - libdeflate's error code. Node-API, so that one build loads in
 * every Node release; one decompressor a thread (instance data), as each worker thread
 * loads the module for itself.
 */
#include <node_api.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#ifdef __linux__
#include <sys/mman.h>
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14; older headers lack the name */
#endif
#endif
#ifndef _WIN32
#include <unistd.h>
#define HAVE_PREAD 1
#endif
#include "libdeflate.h"
#include "files.h"

static void free_decompressor(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  libdeflate_free_decompressor(data);
}

int bytes_of(napi_env env, napi_value value, void **data, size_t *length) {
  napi_typedarray_type type;
  napi_value buffer;
  size_t offset;
  if (napi_get_typedarray_info(env, value, &type, length, data, &buffer, &offset) != napi_ok || type != napi_uint8_array) {
    napi_throw_type_error(env, NULL, "flowsieve native: a Uint8Array expected");
    return 0;
  }
  return 1;
}

static napi_value gunzip(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  struct libdeflate_decompressor *d;
  void *in, *out;
  size_t in_length, out_length, used = 0;
  napi_value result;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2) {
    napi_throw_type_error(env, NULL, "gunzip: two arguments expected");
    return NULL;
  }
  if (!bytes_of(env, argv[0], &in, &in_length) || !bytes_of(env, argv[1], &out, &out_length)) return NULL;
  if (napi_get_instance_data(env, (void **)&d) != napi_ok || d == NULL) {
    napi_throw_error(env, NULL, "gunzip: no decompressor");
    return NULL;
  }
  enum libdeflate_result r = libdeflate_gzip_decompress_ex(d, in, in_length, out, out_length, &used, NULL);
  napi_create_double(env, r == LIBDEFLATE_SUCCESS ? (double)used : -1.0 - (double)r, &result);
  return result;
}

/* gunzipAsync: the same inflate on libuv's thread pool, so that the thread can parse one file while the next inflates */
struct async_gunzip {
  napi_async_work work;
  napi_ref input_ref, output_ref, callback_ref;
  void *in, *out;
  size_t in_length, out_length, used;
  enum libdeflate_result result;
  /* gunzipFileAsync: the file to read into `in` first (its in_length bytes, then its end); -1: none */
  int fd;
};

#ifdef HAVE_PREAD
/* the whole file at a->fd into a->in: exactly in_length bytes and then its end (a file that grew or shrank since it was planned is refused) */
static int read_whole(struct async_gunzip *a) {
  size_t got = 0;
  char past;
  int ok = 1;
  while (got < a->in_length) {
    ssize_t n = pread(a->fd, (char *)a->in + got, a->in_length - got, (off_t)got);
    if (n <= 0) {
      ok = 0;
      break;
    }
    got += (size_t)n;
  }
  if (ok && pread(a->fd, &past, 1, (off_t)got) != 0) ok = 0;
  return ok;
}
#endif

/* inflates queued or running on the pool, from every thread of the process (each loads this module, the counter is one) */
static atomic_int in_flight;

static void async_execute(napi_env env, void *data) {
  struct async_gunzip *a = data;
  (void)env;
#ifdef HAVE_PREAD
  if (a->fd >= 0) {
    const unsigned char *h = a->in;
    /* what read.ts nativeOutputSize checks of a gzip file's head: else zlib reads it (FHCRC: zlib checks it, libdeflate does not) */
    if (!read_whole(a) || a->in_length < 18 || h[0] != 0x1f || h[1] != 0x8b || h[2] != 8 || (h[3] & 0x02) != 0) {
      a->result = LIBDEFLATE_BAD_DATA;
      return;
    }
  }
#endif
  /* a decompressor a call: ~1 µs against the inflate's hundreds, and no state shared between pool threads */
  struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
  if (d == NULL) {
    a->result = LIBDEFLATE_BAD_DATA;
    return;
  }
  a->result = libdeflate_gzip_decompress_ex(d, a->in, a->in_length, a->out, a->out_length, &a->used, NULL);
  libdeflate_free_decompressor(d);
}

static void async_complete(napi_env env, napi_status status, void *data) {
  struct async_gunzip *a = data;
  napi_value callback, global, result;
  napi_get_reference_value(env, a->callback_ref, &callback);
  napi_get_global(env, &global);
  double r = status != napi_ok ? -1.0 - (double)LIBDEFLATE_BAD_DATA : a->result == LIBDEFLATE_SUCCESS ? (double)a->used : -1.0 - (double)a->result;
  napi_create_double(env, r, &result);
  napi_delete_reference(env, a->input_ref);
  napi_delete_reference(env, a->output_ref);
  napi_delete_reference(env, a->callback_ref);
  napi_delete_async_work(env, a->work);
  free(a);
  atomic_fetch_sub(&in_flight, 1);
  napi_call_function(env, global, callback, 1, &result, NULL);
}

/*
 * `data`'s work queued on libuv's pool under `label` (`execute` there, `complete` back on the JS
 * thread): 1; or 0 where it could not be made or queued, the work deleted (*work NULL) and
 * `complete` never to be called, for the caller to let go of `data`: gunzipAsync's,
 * gunzipFileAsync's, populateAsync's and native/files.c's common end, once each has made its
 * `data` and referenced what it holds.
 */
int queue_work(napi_env env, const char *label, napi_async_execute_callback execute, napi_async_complete_callback complete, void *data, napi_async_work *work) {
  napi_value name;
  *work = NULL;
  if (napi_create_string_utf8(env, label, NAPI_AUTO_LENGTH, &name) != napi_ok || napi_create_async_work(env, NULL, name, execute, complete, data, work) != napi_ok) {
    *work = NULL;
    return 0;
  }
  if (napi_queue_async_work(env, *work) != napi_ok) {
    napi_delete_async_work(env, *work);
    *work = NULL;
    return 0;
  }
  return 1;
}

/*
 * Queue one inflate of `input` into `output` on libuv's pool (reading the file at `fd` into
 * `input` first when fd >= 0), or answer false when the process's `limit` of inflates is there
 * already: gunzipAsync's and gunzipFileAsync's common part, after each has checked its arguments.
 */
static napi_value queue_gunzip(napi_env env, napi_value input, napi_value output, napi_value callback, int fd, int32_t limit, const char *label) {
  napi_value started;
  struct async_gunzip *a;
  void *in, *out;
  size_t in_length, out_length;
  if (!bytes_of(env, input, &in, &in_length) || !bytes_of(env, output, &out, &out_length)) return NULL;
  if (atomic_fetch_add(&in_flight, 1) >= limit || (a = calloc(1, sizeof *a)) == NULL) {
    atomic_fetch_sub(&in_flight, 1);
    napi_get_boolean(env, false, &started);
    return started;
  }
  a->in = in;
  a->in_length = in_length;
  a->out = out;
  a->out_length = out_length;
  a->fd = fd;
  napi_create_reference(env, input, 1, &a->input_ref);
  napi_create_reference(env, output, 1, &a->output_ref);
  napi_create_reference(env, callback, 1, &a->callback_ref);
  const int queued = queue_work(env, label, async_execute, async_complete, a, &a->work);
  if (!queued) {
    /* not queued: nothing started (the caller inflates it itself, or tries again) */
    napi_delete_reference(env, a->input_ref);
    napi_delete_reference(env, a->output_ref);
    napi_delete_reference(env, a->callback_ref);
    free(a);
    atomic_fetch_sub(&in_flight, 1);
  }
  napi_get_boolean(env, queued, &started);
  return started;
}

/*
 * gunzipAsync(input, output, limit, callback): true, and later callback(the number gunzip
 * would return), the buffers held until then; or false, nothing started, where `limit`
 * inflates of the process are on the pool already (more parse threads than pool threads:
 * a thread would wait for its file behind the others' instead of inflating it itself), or
 * where the work could not be queued.
 */
static napi_value gunzip_async(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_valuetype type;
  int32_t limit;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 4 || napi_get_value_int32(env, argv[2], &limit) != napi_ok ||
      napi_typeof(env, argv[3], &type) != napi_ok || type != napi_function) {
    napi_throw_type_error(env, NULL, "gunzipAsync: input, output, a limit and a callback expected");
    return NULL;
  }
  return queue_gunzip(env, argv[0], argv[1], argv[3], -1, limit, "flowsieve:gunzip");
}

#ifdef HAVE_PREAD
/*
 * gunzipFileAsync(fd, input, output, limit, callback): gunzipAsync of the gzip file open at
 * `fd`, read into `input` on the pool thread too (the file must be input.length bytes, no more,
 * no fewer, and have a gzip head libdeflate is to take), so that the thread that asks does
 * not pay for the read: true, or false, nothing started. The fd stays open, the caller's to
 * close when the callback comes (Node tracks the fds fs.openSync gives: one closed here would
 * make its next openSync warn). The callback gets what gunzip would return, or an error for a
 * file that could not be read whole or is not for libdeflate.
 */
static napi_value gunzip_file_async(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_valuetype type;
  int32_t fd, limit;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 5 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0 ||
      napi_get_value_int32(env, argv[3], &limit) != napi_ok || napi_typeof(env, argv[4], &type) != napi_ok || type != napi_function) {
    napi_throw_type_error(env, NULL, "gunzipFileAsync: an fd, input, output, a limit and a callback expected");
    return NULL;
  }
  return queue_gunzip(env, argv[1], argv[2], argv[4], fd, limit, "flowsieve:gunzip-file");
}
#endif

/* the whole pages of `page` bytes inside [data, data + length): from <= to (equal: none) */
static inline void whole_pages(uintptr_t data, uintptr_t length, uintptr_t page, uintptr_t *from, uintptr_t *to) {
  *from = (data + page - 1) & ~(page - 1);
  *to = (data + length) & ~(page - 1);
  if (*to < *from) *to = *from;
}

/* The one typed array argument's bytes: 1, or 0 (none given, or not a Uint8Array: a TypeError is pending). */
static int one_byte_view(napi_env env, napi_callback_info info, void **data, size_t *length) {
  size_t argc = 1;
  napi_value argv[1];
  return napi_get_cb_info(env, info, &argc, argv, NULL, NULL) == napi_ok && argc >= 1 && bytes_of(env, argv[0], data, length);
}

/*
 * madvise(advice) over the whole `page`-sized pages inside the one typed array argument: the
 * byte offset in it of the first of them, or -1 where there is none, the advice (< 0: none
 * here) was refused or this is not Linux; -2 where the argument is not a byte view.
 */
static double advise_pages_of(napi_env env, napi_callback_info info, uintptr_t page, int advice) {
  void *data;
  size_t length;
  double at = -1;
  if (!one_byte_view(env, info, &data, &length)) return -2;
#if defined(__linux__)
  uintptr_t from, to;
  whole_pages((uintptr_t)data, length, page, &from, &to);
  if (advice >= 0 && to > from && madvise((void *)from, to - from, advice) == 0) at = (double)(from - (uintptr_t)data);
#else
  (void)page;
  (void)advice;
#endif
  return at;
}

/* advise_pages_of, answering whether any page was advised */
static napi_value advise_whole_pages(napi_env env, napi_callback_info info, uintptr_t page, int advice) {
  napi_value done;
  const double at = advise_pages_of(env, info, page, advice);
  if (at < -1) return NULL;
  napi_get_boolean(env, at >= 0, &done);
  return done;
}

#if defined(__linux__) && defined(MADV_HUGEPAGE)
#define HUGE_PAGE_ADVICE MADV_HUGEPAGE
#else
#define HUGE_PAGE_ADVICE (-1)
#endif

/*
 * adviseHugePages(bytes): asks the kernel (madvise MADV_HUGEPAGE) to back the whole 2 MiB pages
 * inside `bytes` with transparent huge pages when they are first touched: one fault and one
 * zeroing a 2 MiB page instead of 512 of 4 KiB (~1.5 us each on the bench host). For memory not
 * touched yet that the process fills anyway (the engine's batch ring). False where the kernel
 * has no such advice or refused it (transparent huge pages off: the pages stay as they were).
 */
static napi_value advise_huge_pages(napi_env env, napi_callback_info info) {
  return advise_whole_pages(env, info, (uintptr_t)2 << 20, HUGE_PAGE_ADVICE);
}

/*
 * hugePagesFrom(bytes): adviseHugePages, answering where the advised memory starts: the byte
 * offset in `bytes` of its first whole 2 MiB page, or -1 where it holds none or the kernel
 * refused (not Linux, transparent huge pages off). For a buffer made 2 MiB larger than needed,
 * so that the part used lies on huge pages (read.ts's inflated text, file-buffers.ts).
 */
static napi_value huge_pages_from(napi_env env, napi_callback_info info) {
  napi_value at;
  const double offset = advise_pages_of(env, info, (uintptr_t)2 << 20, HUGE_PAGE_ADVICE);
  if (offset < -1) return NULL;
  napi_create_double(env, offset, &at);
  return at;
}

/*
 * populate(bytes): backs the whole 4 KiB pages inside `bytes` with writable memory now, in one
 * system call (madvise MADV_POPULATE_WRITE, Linux 5.14), for memory the caller is about to fill
 * whole: no trap a page on its first touch. Contents never change (a page already backed stays
 * as it is; a new one reads as the zeros it would have read). False where the kernel has no such
 * advice or could not back every page (nothing is lost then: the pages fault as before); the
 * partial pages at either end are left to fault.
 */
static napi_value populate(napi_env env, napi_callback_info info) {
#if defined(__linux__)
  return advise_whole_pages(env, info, (uintptr_t)sysconf(_SC_PAGESIZE), MADV_POPULATE_WRITE);
#else
  return advise_whole_pages(env, info, 4096, -1);
#endif
}

/* one populateAsync or releaseAsync: its advice, the ranges' whole pages, absolute, and the views held until it is done */
struct async_populate {
  napi_async_work work;
  napi_ref bytes_ref;
  napi_ref done_ref; /* NULL: no callback */
  int advice;
  size_t count;
  uintptr_t range[]; /* from, to pairs */
};

static void populate_execute(napi_env env, void *data) {
  struct async_populate *a = data;
  (void)env;
#if defined(__linux__)
  for (size_t i = 0; i < a->count; i++) madvise((void *)a->range[2 * i], a->range[2 * i + 1] - a->range[2 * i], a->advice);
#endif
}

static void populate_complete(napi_env env, napi_status status, void *data) {
  struct async_populate *a = data;
  napi_value callback, global;
  napi_ref done = a->done_ref;
  (void)status;
  napi_delete_reference(env, a->bytes_ref);
  napi_delete_async_work(env, a->work);
  free(a);
  if (done == NULL) return;
  napi_get_reference_value(env, done, &callback);
  napi_delete_reference(env, done);
  napi_get_global(env, &global);
  napi_call_function(env, global, callback, 0, NULL, NULL);
}

/* an advice given on libuv's pool: the call's name (its async resource's label), the advice (-1: none here), its usage error */
struct pool_advice {
  const char *label;
  int advice;
  const char *usage;
};

/*
 * populateAsync(bytes, ranges, done?): populate (below) on libuv's thread pool, over the whole
 * 4 KiB pages of each (byte offset, length) pair of `ranges` inside `bytes`, so that memory a
 * thread is about to write for the first time is backed while that thread does other work:
 * its first touch then takes no fault (a fault costs the thread that takes it ~1.4 us a page
 * here; populated elsewhere, the thread pays nothing). `bytes` is held until the pool thread
 * is done, then done() is called, if given. Contents never change, and a page the caller
 * writes meanwhile is backed once either way. True when queued; false where there is nothing
 * to do (no whole page, not Linux): the pages fault as before.
 */
static const struct pool_advice POPULATE_ASYNC = {
  "flowsieve:populate",
#if defined(__linux__)
  MADV_POPULATE_WRITE,
#else
  -1,
#endif
  "populateAsync: bytes, a Float64Array of ranges and a callback expected",
};

/*
 * releaseAsync(bytes, ranges, done?): gives the whole 4 KiB pages of each (byte offset, length)
 * pair of `ranges` inside `bytes` back to the kernel on libuv's thread pool (madvise
 * MADV_DONTNEED): they read as zeros afterwards. For memory that no thread will read again
 * (the engine's batch ring and a shared table after a run's last finalise: engine/run.ts), so
 * that the kernel frees its pages on a pool thread while the process does other work, not in
 * the process's exit, which it would otherwise delay (~20 ms on the 7 M-record bucket).
 * True when queued; false where nothing was (no whole page, not Linux).
 */
static const struct pool_advice RELEASE_ASYNC = {
  "flowsieve:release",
#if defined(__linux__)
  MADV_DONTNEED,
#else
  -1,
#endif
  "releaseAsync: bytes, a Float64Array of ranges and a callback expected",
};

/* populateAsync and releaseAsync (the function's data: its struct pool_advice): the advice over the ranges' whole pages on libuv's pool */
static napi_value advise_async(napi_env env, napi_callback_info info) {
  size_t argc = 3, length, pairs, count = 0;
  napi_value argv[3], queued;
  napi_valuetype type = napi_undefined;
  napi_typedarray_type kind;
  void *data, *list, *of;
  struct async_populate *a;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, &of) != napi_ok || argc < 2 || !bytes_of(env, argv[0], &data, &length)) return NULL;
  const struct pool_advice *call = of;
  const int advice = call->advice;
  if (napi_get_typedarray_info(env, argv[1], &kind, &pairs, &list, NULL, NULL) != napi_ok || kind != napi_float64_array || (argc > 2 && napi_typeof(env, argv[2], &type) != napi_ok)) {
    napi_throw_type_error(env, NULL, call->usage);
    return NULL;
  }
  pairs /= 2;
  a = calloc(1, sizeof *a + 2 * pairs * sizeof(uintptr_t));
#if defined(__linux__)
  const uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
  for (size_t i = 0; a != NULL && advice >= 0 && i < pairs; i++) {
    const double at = ((double *)list)[2 * i], n = ((double *)list)[2 * i + 1];
    if (!(at >= 0 && n > 0 && at + n <= (double)length)) continue;
    uintptr_t from, to;
    whole_pages((uintptr_t)data + (uintptr_t)at, (uintptr_t)n, page, &from, &to);
    if (to == from) continue;
    a->range[2 * count] = from;
    a->range[2 * count + 1] = to;
    count++;
  }
#endif
  if (a == NULL || count == 0) {
    free(a);
    napi_get_boolean(env, false, &queued);
    return queued;
  }
  a->count = count;
  a->advice = advice;
  napi_create_reference(env, argv[0], 1, &a->bytes_ref);
  if (type == napi_function) napi_create_reference(env, argv[2], 1, &a->done_ref);
  const int started = queue_work(env, call->label, populate_execute, populate_complete, a, &a->work);
  if (!started) {
    /* not queued: false, as for no whole page (done() never called) */
    napi_delete_reference(env, a->bytes_ref);
    if (a->done_ref != NULL) napi_delete_reference(env, a->done_ref);
    free(a);
  }
  napi_get_boolean(env, started, &queued);
  return queued;
}

/*
 * crc32(bytes): the CRC-32 (zlib's) of `bytes`, by libdeflate (carry-less multiplication where
 * the CPU has it): the replay reader checks every block's payload with it (src/replay/block.ts),
 * ~5 GB/s with Node's zlib.crc32 on the bench host. Undefined when `bytes` is no byte view.
 */
static napi_value crc32_of(napi_env env, napi_callback_info info) {
  napi_value crc;
  void *data;
  size_t length;
  if (!one_byte_view(env, info, &data, &length)) return NULL;
  napi_create_uint32(env, libdeflate_crc32(0, data, length), &crc);
  return crc;
}

/* `call` on `exports` under `name`, `data` its function data */
void export_call(napi_env env, napi_value exports, const char *name, napi_callback call, void *data) {
  napi_value fn;
  napi_create_function(env, name, NAPI_AUTO_LENGTH, call, data, &fn);
  napi_set_named_property(env, exports, name, fn);
}

NAPI_MODULE_INIT() {
  struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
  if (d == NULL || napi_set_instance_data(env, d, free_decompressor, NULL) != napi_ok) {
    napi_throw_error(env, NULL, "gunzip: cannot allocate a decompressor");
    return NULL;
  }
  export_call(env, exports, "gunzip", gunzip, NULL);
  export_call(env, exports, "gunzipAsync", gunzip_async, NULL);
#ifdef HAVE_PREAD
  export_call(env, exports, "gunzipFileAsync", gunzip_file_async, NULL);
#endif
  export_call(env, exports, "adviseHugePages", advise_huge_pages, NULL);
  export_call(env, exports, "hugePagesFrom", huge_pages_from, NULL);
  export_call(env, exports, "populate", populate, NULL);
  export_call(env, exports, "populateAsync", advise_async, (void *)&POPULATE_ASYNC);
  export_call(env, exports, "releaseAsync", advise_async, (void *)&RELEASE_ASYNC);
  export_call(env, exports, "crc32", crc32_of, NULL);
  add_file_calls(env, exports);
  return exports;
}
