/*
 * flowsieve's whole-buffer gunzip: libdeflate (vendored in libdeflate/, MIT) behind one
 * Node-API function, built by scripts/build-native.mjs into dist/native/inflate.node.
 *
 *   gunzip(input: Uint8Array, output: Uint8Array): number
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
#include "libdeflate.h"

static void free_decompressor(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  libdeflate_free_decompressor(data);
}

static int bytes_of(napi_env env, napi_value value, void **data, size_t *length) {
  napi_typedarray_type type;
  napi_value buffer;
  size_t offset;
  if (napi_get_typedarray_info(env, value, &type, length, data, &buffer, &offset) != napi_ok || type != napi_uint8_array) {
    napi_throw_type_error(env, NULL, "gunzip: arguments must be Uint8Arrays");
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

NAPI_MODULE_INIT() {
  napi_value fn;
  struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
  if (d == NULL || napi_set_instance_data(env, d, free_decompressor, NULL) != napi_ok) {
    napi_throw_error(env, NULL, "gunzip: cannot allocate a decompressor");
    return NULL;
  }
  napi_create_function(env, "gunzip", NAPI_AUTO_LENGTH, gunzip, NULL, &fn);
  napi_set_named_property(env, exports, "gunzip", fn);
  return exports;
}
