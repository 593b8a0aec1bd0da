/* native/files.c's calls, and what it shares with inflate.c (one module, built together by scripts/build-native.mjs) */
#ifndef FLOWSIEVE_FILES_H
#define FLOWSIEVE_FILES_H
#include <node_api.h>

/* the bytes of a Uint8Array argument: 1, or 0 with a TypeError pending (inflate.c) */
int bytes_of(napi_env env, napi_value value, void **data, size_t *length);
/* `data`'s work queued on libuv's pool (inflate.c): 1, or 0 where it could not be (*work NULL: nothing to delete; `complete` never called) */
int queue_work(napi_env env, const char *label, napi_async_execute_callback execute, napi_async_complete_callback complete, void *data, napi_async_work *work);
/* `call` on `exports` under `name`, `data` its function data (inflate.c) */
void export_call(napi_env env, napi_value exports, const char *name, napi_callback call, void *data);
/* readFilesAsync, treeWalkStart and treeWalkTake on `exports` (POSIX; none elsewhere) */
void add_file_calls(napi_env env, napi_value exports);

#endif
