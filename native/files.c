/*
 * File calls of flowsieve's native module (loaded with inflate.c's: src/input/native.ts), for
 * folders of many small files (bench/RESULTS.md, session 21 azure, session 22 perfile): their
 * system calls made on one of libuv's pool threads, in one task, not in the thread that parses,
 * or (readFileIn) in fewer calls and lookups there.
 *
 *   readFilesAsync(paths: string, into: Uint8Array, spans: Float64Array, done: () => void, heads?: Uint8Array): boolean
 *   readFileIn(path: string, into: Uint8Array): number
 *   readFileInDone(): undefined
 *   treeWalkStart(root: string, maxEntries: number): object
 *   treeWalkTake(walk: object): string | null
 *
 * POSIX only: elsewhere the module has none of them and the callers read as before.
 */
#ifndef _WIN32
#define _GNU_SOURCE 1
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#endif
#include "files.h"

#ifndef _WIN32
/*
 * one readFilesAsync: the paths (NUL-separated, owned), the bytes they go into, the spans (offset,
 * room) each answered in place, and where asked (heads != NULL) a byte a file for its head's words
 */
struct async_read_files {
  napi_async_work work;
  napi_ref into_ref, spans_ref, done_ref, heads_ref;
  char *paths;
  unsigned char *into;
  double *spans;
  unsigned char *heads;
  size_t count;
};

/*
 * The words a plain file's head (its first HEAD_BYTES, as planning reads a head: src/input/plan.ts)
 * is searched for, one bit each (src/formats/types.ts HeadWord): the aws-json sniffer's cheap "no"
 * for the other JSON formats (src/formats/aws-json.ts mayNameMessage) answered on the pool thread,
 * beside the bytes it just read, and not by the thread that parses them.
 */
#define HEAD_BYTES 65536
#define HEAD_MESSAGE 1
#define HEAD_ESCAPE 2

/*
 * Whether bytes[0, n) hold `word` (length > `key`): its byte at `key` found by memchr (SIMD), the
 * rest compared there. With a key byte rare in the text (a flow log's JSON has few 'g's and fewer
 * '\\'s) the search runs at about memchr's speed: ~3 ms of the pool's CPU for the heads of 696
 * Azure blobs, where glibc's memmem took ~28 ms (bench/RESULTS.md, session 23 azure2).
 */
static int holds(const unsigned char *bytes, size_t n, const char *word, size_t length, size_t key) {
  if (n < length) return 0;
  const unsigned char *p = bytes + key, *end = bytes + n - (length - 1 - key);
  while (p < end && (p = memchr(p, (unsigned char)word[key], (size_t)(end - p))) != NULL) {
    if (memcmp(p - key, word, length) == 0) return 1;
    p++;
  }
  return 0;
}

static unsigned char head_words(const unsigned char *bytes, size_t length) {
  const size_t n = length < HEAD_BYTES ? length : HEAD_BYTES;
  return (unsigned char)((holds(bytes, n, "message", 7, 5) ? HEAD_MESSAGE : 0) | (holds(bytes, n, "\\u", 2, 0) ? HEAD_ESCAPE : 0));
}

/* what read_whole_at answers for a path that is no regular file (-1 - errno, errno 0: no errno's) */
#define NOT_REGULAR (-1.0)

/*
 * one file at `path` (relative to folder `dir`, or AT_FDCWD) into `to`, at most `room` bytes: the
 * bytes read (it ended before `room`, or filled it), -1 - errno, or NOT_REGULAR. Opened without
 * blocking: a FIFO put in a file's place after planning would hold the thread in open() until a
 * writer came (planning reports a path that is no regular file, plan.ts). With `regular_only`
 * read only where fstat says a regular file; without it (readFileIn, whose caller takes only a
 * read that ended before `room` and reads anything else again) one system call fewer a file.
 */
static double read_whole_at(int dir, const char *path, unsigned char *to, size_t room, int regular_only) {
  int fd;
  size_t got = 0;
  struct stat st;
  do fd = openat(dir, path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  while (fd < 0 && errno == EINTR);
  if (fd < 0) return -1.0 - (double)errno;
  if (regular_only && fstat(fd, &st) != 0) {
    const int e = errno;
    close(fd);
    return -1.0 - (double)e;
  }
  if (regular_only && !S_ISREG(st.st_mode)) {
    close(fd);
    return NOT_REGULAR;
  }
  while (got < room) {
    ssize_t n = read(fd, to + got, room - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int e = errno;
      close(fd);
      return -1.0 - (double)e;
    }
    if (n == 0) break;
    got += (size_t)n;
  }
  close(fd);
  return (double)got;
}

static void read_files_execute(napi_env env, void *data) {
  struct async_read_files *a = data;
  const char *path = a->paths;
  (void)env;
  for (size_t i = 0; i < a->count; i++) {
    double *span = a->spans + 2 * i;
    unsigned char *to = a->into + (size_t)span[0];
    span[1] = read_whole_at(AT_FDCWD, path, to, (size_t)span[1], 1);
    if (a->heads != NULL && span[1] >= 0) a->heads[i] = head_words(to, (size_t)span[1]);
    path += strlen(path) + 1;
  }
}

/* what a readFilesAsync holds let go (its work, where it was made) */
static void read_files_free(napi_env env, struct async_read_files *a) {
  napi_delete_reference(env, a->into_ref);
  napi_delete_reference(env, a->spans_ref);
  napi_delete_reference(env, a->done_ref);
  if (a->heads_ref != NULL) napi_delete_reference(env, a->heads_ref);
  if (a->work != NULL) napi_delete_async_work(env, a->work);
  free(a->paths);
  free(a);
}

static void read_files_complete(napi_env env, napi_status status, void *data) {
  struct async_read_files *a = data;
  napi_value callback, global;
  if (status != napi_ok)
    for (size_t i = 0; i < a->count; i++) a->spans[2 * i + 1] = -1.0 - (double)EIO;
  napi_get_reference_value(env, a->done_ref, &callback);
  read_files_free(env, a);
  napi_get_global(env, &global);
  napi_call_function(env, global, callback, 0, NULL, NULL);
}

/*
 * readFilesAsync(paths, into, spans, done): reads several whole files on one of libuv's pool
 * threads, one task for them all: each file's open, reads and close there, not in the thread
 * that asks (for a folder of small JSON blobs parsed in the main thread: src/input/read.ts
 * readBlobsAhead). `paths` holds the files' paths, each ended by a NUL; `spans` a pair a file,
 * (byte offset in `into`, room): the file's bytes go there, at most `room` of them, and the
 * pool thread writes over the room the bytes it read (fewer: the file ended; `room`: it may go
 * on), -1 - errno where it could not be opened or read, or -1 where it is no regular file (not
 * read: a FIFO, a device). `heads` (optional, a byte a file): where a file was read, the words
 * its head holds (head_words). `into`, `spans` and `heads` are held until done() is called, when
 * every answer is in. True when queued (false: not queued, done() never called); a TypeError for bad
 * arguments (a span outside `into`, a count of paths that is not the spans').
 */
static napi_value read_files_async(napi_env env, napi_callback_info info) {
  size_t argc = 5, length, pairs, text = 0, count = 0, head_count = 0;
  napi_value argv[5], queued;
  napi_valuetype type = napi_undefined, heads_type = napi_undefined;
  napi_typedarray_type kind;
  void *into, *list, *heads = NULL;
  struct async_read_files *a;
  const char *usage = "readFilesAsync: paths, a Uint8Array, a Float64Array of spans, a callback and a Uint8Array of heads (optional) expected";
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 4 || napi_get_value_string_utf8(env, argv[0], NULL, 0, &text) != napi_ok ||
      !bytes_of(env, argv[1], &into, &length) || napi_get_typedarray_info(env, argv[2], &kind, &pairs, &list, NULL, NULL) != napi_ok ||
      kind != napi_float64_array || napi_typeof(env, argv[3], &type) != napi_ok || type != napi_function) {
    napi_throw_type_error(env, NULL, usage);
    return NULL;
  }
  if (argc >= 5 && napi_typeof(env, argv[4], &heads_type) == napi_ok && heads_type != napi_undefined && !bytes_of(env, argv[4], &heads, &head_count))
    return NULL; /* bytes_of's TypeError pending */
  pairs /= 2;
  a = calloc(1, sizeof *a);
  char *paths = a == NULL ? NULL : malloc(text + 1);
  if (paths == NULL) {
    free(a);
    napi_throw_error(env, NULL, "readFilesAsync: out of memory");
    return NULL;
  }
  napi_get_value_string_utf8(env, argv[0], paths, text + 1, &text);
  for (size_t i = 0; i < text; i++) count += paths[i] == '\0';
  int ok = count == pairs && text > 0 && paths[text - 1] == '\0' && (heads == NULL || head_count >= count);
  for (size_t i = 0; ok && i < pairs; i++) {
    const double at = ((double *)list)[2 * i], room = ((double *)list)[2 * i + 1];
    ok = at >= 0 && room >= 0 && at + room <= (double)length && at == (double)(size_t)at && room == (double)(size_t)room;
  }
  if (!ok) {
    free(paths);
    free(a);
    napi_throw_type_error(env, NULL, usage);
    return NULL;
  }
  a->paths = paths;
  a->into = into;
  a->spans = list;
  a->heads = heads;
  a->count = count;
  if (heads != NULL) napi_create_reference(env, argv[4], 1, &a->heads_ref);
  napi_create_reference(env, argv[1], 1, &a->into_ref);
  napi_create_reference(env, argv[2], 1, &a->spans_ref);
  napi_create_reference(env, argv[3], 1, &a->done_ref);
  if (!queue_work(env, "flowsieve:read-files", read_files_execute, read_files_complete, a, &a->work)) {
    read_files_free(env, a); /* not queued: done() is never called, and the caller reads as before */
    napi_get_boolean(env, false, &queued);
    return queued;
  }
  napi_get_boolean(env, true, &queued);
  return queued;
}

/*
 * The folder of the last file readFileIn opened in this thread (its path, with no '/' at its end
 * but for "/"), open: the next file of the same folder is opened relative to it. Per thread: each
 * parse thread reads its own files.
 */
static __thread char in_dir[4096];
static __thread size_t in_dir_length;
static __thread int in_dir_fd = -1;
/* whether this thread's env closes the folder at its end (folder_close_hook registered) */
static __thread int in_dir_hooked;

/* the folder kept open closed: a folder renamed or replaced at its path is then opened anew by the next call */
static void folder_close(void) {
  if (in_dir_fd >= 0) close(in_dir_fd);
  in_dir_fd = -1;
  in_dir_length = 0;
}

/* at the end of the thread's env (a worker thread's exit, piscina's idle timeout): no descriptor left behind */
static void folder_close_hook(void *unused) {
  (void)unused;
  folder_close();
}

/* the folder `path[0..length)` open in in_dir_fd (the one open already, or opened now): 1, or 0 where it cannot be opened */
static int folder_open(napi_env env, const char *path, size_t length) {
  if (in_dir_fd >= 0 && length == in_dir_length && memcmp(path, in_dir, length) == 0) return 1;
  folder_close();
  if (!in_dir_hooked) in_dir_hooked = napi_add_env_cleanup_hook(env, folder_close_hook, NULL) == napi_ok;
  if (!in_dir_hooked || length >= sizeof in_dir) return 0;
  memcpy(in_dir, path, length);
  in_dir[length] = '\0';
  in_dir_length = length;
  do in_dir_fd = open(in_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  while (in_dir_fd < 0 && errno == EINTR);
  return in_dir_fd >= 0;
}

/*
 * readFileIn(path, into): the whole file at `path` read into `into` synchronously, opened relative
 * to its folder, which stays open for the thread's next file in it until readFileInDone (the
 * parse thread's end of a task: workers/parse.ts parseWithSink) or the thread's end: the bytes read, or -1 where
 * this call did not read the whole file (it could not be opened or read, it holds no bytes now, or
 * it filled `into`: it may go on). A parse thread reading a bucket's small gzip objects one after
 * another (src/input/read.ts readGzipFile) resolved each object's path ~10 folders deep and paid
 * four calls' JavaScript a file; on -1 it reads the file as before, which reports what went wrong.
 * It never blocks here: a FIFO put in a file's place after planning is opened without waiting
 * and answers -1 (the read as before then waits for a writer, as it always did). A path longer
 * than this call's buffer answers -1 (read as before: ENAMETOOLONG), never a cut path.
 */
static napi_value read_file_in(napi_env env, napi_callback_info info) {
  size_t argc = 2, length = 0, room = 0;
  napi_value argv[2], answer;
  void *into;
  char path[4096];
  double result = -1.0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 || napi_get_value_string_utf8(env, argv[0], NULL, 0, &length) != napi_ok) {
    napi_throw_type_error(env, NULL, "readFileIn: a path and a Uint8Array expected");
    return NULL;
  }
  if (length >= sizeof path) { /* the copy would be cut (perhaps to another file's name) */
    napi_create_double(env, result, &answer);
    return answer;
  }
  napi_get_value_string_utf8(env, argv[0], path, sizeof path, &length);
  if (!bytes_of(env, argv[1], &into, &room)) return NULL; /* its TypeError pending */
  const char *slash = strrchr(path, '/');
  if (slash != NULL && slash[1] != '\0' && strlen(path) == length && folder_open(env, path, slash == path ? 1 : (size_t)(slash - path))) {
    const double got = read_whole_at(in_dir_fd, slash + 1, into, room, 0);
    if (got > 0 && got < (double)room) result = got; /* whole: it ended before filling `into` */
  }
  napi_create_double(env, result, &answer);
  return answer;
}

/* readFileInDone(): the folder readFileIn keeps open closed (a task's end) */
static napi_value read_file_in_done(napi_env env, napi_callback_info info) {
  (void)env;
  (void)info;
  folder_close();
  return NULL;
}

/*
 * treeWalkStart(root, maxEntries): the folders under `root` listed on one of libuv's pool threads
 * while the thread that asks does other work (the command line loads detect's modules), for
 * planning to take (src/input/listing.ts prewalk): each folder's entries as readdirSync lists
 * them (sorted by their bytes, as libuv sorts them; their kinds from the listing) and each
 * regular file's size (a stat that follows links, as statSync's). A folder is opened relative to
 * its parent (one name a lookup, not a path ~15 folders deep). Links are not followed; a folder
 * whose listing has an entry of unknown kind or a name that is not UTF-8, that cannot be read,
 * that lies deeper than MAX_DEPTH or past `maxEntries` entries in all is marked and left to
 * planning, which lists it itself (and reports why). treeWalkTake(walk) waits for the walk to end
 * (where it has not) and answers its records, each ended by a NUL, once (then null):
 *   'D' + the folder's path below root ('' for root, names joined by '/'): its entries follow;
 *   'X' + the same: a folder not listed here, nor any below it;
 *   'f' + size + '/' + name: a regular file (size -1: its stat failed), 'd' + name: a folder,
 *   'l', 'p', 's', 'c', 'b' + name: a link, a FIFO, a socket, a character or block device.
 */
#define MAX_DEPTH 64

struct tree_walk {
  napi_async_work work;
  pthread_mutex_t lock;
  pthread_cond_t ended;
  int done, taken;
  atomic_int holders; /* the pool's work and the JavaScript object: freed when both let go */
  char *root;
  size_t max_entries, entries;
  char rel[4096]; /* the folder's path below root while it is walked */
  char *out;
  size_t length, room;
  int failed; /* out of memory: no records */
};

static void walk_release(struct tree_walk *w) {
  if (atomic_fetch_sub(&w->holders, 1) != 1) return;
  pthread_mutex_destroy(&w->lock);
  pthread_cond_destroy(&w->ended);
  free(w->root);
  free(w->out);
  free(w);
}

/* one record appended: `kind`, `a` (na bytes), `b` (nb bytes), a NUL */
static void emit(struct tree_walk *w, char kind, const char *a, size_t na, const char *b, size_t nb) {
  const size_t need = w->length + na + nb + 2;
  if (w->failed) return;
  if (need > w->room) {
    size_t room = w->room < 65536 ? 65536 : w->room;
    while (room < need) room *= 2;
    char *grown = realloc(w->out, room);
    if (grown == NULL) {
      w->failed = 1;
      return;
    }
    w->out = grown;
    w->room = room;
  }
  w->out[w->length++] = kind;
  memcpy(w->out + w->length, a, na);
  memcpy(w->out + w->length + na, b, nb);
  w->length += na + nb;
  w->out[w->length++] = '\0';
}

/* whether the NUL-ended `s` is well-formed UTF-8 (readdirSync decodes such a name to the same string) */
static int utf8(const unsigned char *s) {
  while (*s) {
    const unsigned c = *s;
    const int k = c < 0x80 ? 0 : c >= 0xc2 && c < 0xe0 ? 1 : (c & 0xf0) == 0xe0 ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : -1;
    if (k < 0) return 0;
    for (int j = 1; j <= k; j++)
      if ((s[j] & 0xc0) != 0x80) return 0;
    if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] >= 0xa0) || (c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] >= 0x90)) return 0;
    s += k + 1;
  }
  return 1;
}

static char kind_of(unsigned char type) {
  switch (type) {
    case DT_REG: return 'f';
    case DT_DIR: return 'd';
    case DT_LNK: return 'l';
    case DT_FIFO: return 'p';
    case DT_SOCK: return 's';
    case DT_CHR: return 'c';
    case DT_BLK: return 'b';
    default: return 0;
  }
}

/* an entry kept: its kind, then its name */
struct entry {
  char kind;
  char name[];
};

static int by_name(const void *a, const void *b) {
  return strcmp((*(struct entry *const *)a)->name, (*(struct entry *const *)b)->name);
}

static void free_entries(struct entry **list, long n) {
  for (long i = 0; i < n; i++) free(list[i]);
  free(list);
}

/*
 * the entries of the folder open at `fd` (closed here) sorted by name into *out (NULL where there
 * are none), their count in *n: 1, or 0 where the folder is not for this walk (it could not be
 * read, an entry of unknown kind, a name that is not UTF-8, out of memory)
 */
static int entries_of(int fd, struct entry ***out, long *n) {
  DIR *dir = fdopendir(fd);
  struct entry **list = NULL;
  struct dirent *e = NULL;
  size_t room = 0;
  int ok = dir != NULL;
  *out = NULL;
  *n = 0;
  if (!ok) close(fd);
  while (ok && (errno = 0, e = readdir(dir)) != NULL) {
    if (e->d_name[0] == '.' && (e->d_name[1] == '\0' || (e->d_name[1] == '.' && e->d_name[2] == '\0'))) continue;
    const char kind = kind_of(e->d_type);
    const size_t length = strlen(e->d_name);
    if ((size_t)*n == room) {
      struct entry **grown = realloc(list, (room = room ? 2 * room : 64) * sizeof *list);
      if (grown == NULL) break;
      list = grown;
    }
    struct entry *one = kind && utf8((const unsigned char *)e->d_name) ? malloc(sizeof *one + length + 1) : NULL;
    if (one == NULL) break;
    one->kind = kind;
    memcpy(one->name, e->d_name, length + 1);
    list[(*n)++] = one;
  }
  ok = ok && e == NULL && errno == 0;
  if (dir != NULL) closedir(dir);
  if (!ok) {
    free_entries(list, *n);
    *n = 0;
    return 0;
  }
  if (*n > 0) qsort(list, (size_t)*n, sizeof *list, by_name);
  *out = list;
  return 1;
}

/* the folder open at `fd` (closed here), its path below root w->rel[0..n), and the folders below it */
static void walk_folder(struct tree_walk *w, int fd, size_t n, int depth) {
  long count = 0;
  /* past the bound, a folder is marked without being listed (the walk's work stays bounded too) */
  const int listing = depth > MAX_DEPTH || w->entries >= w->max_entries ? -1 : dup(fd);
  struct entry **list = NULL;
  const int listed = listing >= 0 && entries_of(listing, &list, &count);
  if (!listed || w->entries + (size_t)count > w->max_entries) {
    emit(w, 'X', w->rel, n, "", 0);
    free_entries(list, count);
    close(fd);
    return;
  }
  w->entries += (size_t)count;
  emit(w, 'D', w->rel, n, "", 0);
  for (long i = 0; i < count; i++) {
    const struct entry *e = list[i];
    if (e->kind != 'f') {
      emit(w, e->kind, e->name, strlen(e->name), "", 0);
      continue;
    }
    struct stat st;
    char size[24];
    const int got = fstatat(fd, e->name, &st, 0) == 0 ? snprintf(size, sizeof size, "%lld/", (long long)st.st_size) : snprintf(size, sizeof size, "-1/");
    emit(w, 'f', size, (size_t)got, e->name, strlen(e->name));
  }
  for (long i = 0; i < count; i++) {
    const struct entry *e = list[i];
    const size_t length = strlen(e->name);
    if (e->kind != 'd') continue;
    const size_t below = n == 0 ? length : n + 1 + length;
    if (below >= sizeof w->rel) continue; /* planning lists it (no 'D' for it) */
    if (n > 0) w->rel[n] = '/';
    memcpy(w->rel + below - length, e->name, length);
    const int sub = openat(fd, e->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (sub < 0) emit(w, 'X', w->rel, below, "", 0);
    else walk_folder(w, sub, below, depth + 1);
  }
  free_entries(list, count);
  close(fd);
}

static void walk_execute(napi_env env, void *data) {
  struct tree_walk *w = data;
  (void)env;
  const int fd = open(w->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) walk_folder(w, fd, 0, 0);
  else emit(w, 'X', "", 0, "", 0);
  pthread_mutex_lock(&w->lock);
  w->done = 1;
  pthread_cond_broadcast(&w->ended);
  pthread_mutex_unlock(&w->lock);
}

static void walk_complete(napi_env env, napi_status status, void *data) {
  struct tree_walk *w = data;
  if (status != napi_ok) {
    /* the walk did not run (cancelled): it ends failed, and a treeWalkTake waits no more */
    pthread_mutex_lock(&w->lock);
    if (!w->done) w->failed = 1;
    w->done = 1;
    pthread_cond_broadcast(&w->ended);
    pthread_mutex_unlock(&w->lock);
  }
  napi_delete_async_work(env, w->work);
  walk_release(w);
}

static void walk_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  walk_release(data);
}

static napi_value tree_walk_start(napi_env env, napi_callback_info info) {
  size_t argc = 2, length = 0;
  napi_value argv[2], handle;
  double max_entries;
  struct tree_walk *w;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 || napi_get_value_string_utf8(env, argv[0], NULL, 0, &length) != napi_ok ||
      napi_get_value_double(env, argv[1], &max_entries) != napi_ok || !(max_entries >= 0)) {
    napi_throw_type_error(env, NULL, "treeWalkStart: a folder and a count of entries expected");
    return NULL;
  }
  if ((w = calloc(1, sizeof *w)) == NULL || (w->root = malloc(length + 1)) == NULL) {
    free(w);
    napi_throw_error(env, NULL, "treeWalkStart: out of memory");
    return NULL;
  }
  napi_get_value_string_utf8(env, argv[0], w->root, length + 1, &length);
  w->max_entries = (size_t)max_entries;
  pthread_mutex_init(&w->lock, NULL);
  pthread_cond_init(&w->ended, NULL);
  atomic_init(&w->holders, 2);
  if (napi_create_object(env, &handle) != napi_ok || napi_wrap(env, handle, w, walk_finalize, NULL, NULL) != napi_ok) {
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->ended);
    free(w->root);
    free(w);
    napi_throw_error(env, NULL, "treeWalkStart: the walk's object could not be made");
    return NULL;
  }
  if (!queue_work(env, "flowsieve:tree-walk", walk_execute, walk_complete, w, &w->work)) {
    /* not queued: the walk ends failed (treeWalkTake answers null, and planning lists the folders) */
    w->done = 1;
    w->failed = 1;
    walk_release(w); /* the pool's hold; the object's goes with it */
  }
  return handle;
}

static napi_value tree_walk_take(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], records;
  struct tree_walk *w;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 || napi_unwrap(env, argv[0], (void **)&w) != napi_ok) {
    napi_throw_type_error(env, NULL, "treeWalkTake: a walk expected");
    return NULL;
  }
  pthread_mutex_lock(&w->lock);
  while (!w->done) pthread_cond_wait(&w->ended, &w->lock);
  pthread_mutex_unlock(&w->lock);
  if (w->taken || w->failed) {
    napi_get_null(env, &records);
    return records;
  }
  w->taken = 1;
  napi_create_string_utf8(env, w->out == NULL ? "" : w->out, w->length, &records);
  free(w->out);
  w->out = NULL;
  return records;
}
#endif

void add_file_calls(napi_env env, napi_value exports) {
#ifndef _WIN32
  export_call(env, exports, "readFilesAsync", read_files_async, NULL);
  export_call(env, exports, "readFileIn", read_file_in, NULL);
  export_call(env, exports, "readFileInDone", read_file_in_done, NULL);
  export_call(env, exports, "treeWalkStart", tree_walk_start, NULL);
  export_call(env, exports, "treeWalkTake", tree_walk_take, NULL);
#else
  (void)env;
  (void)exports;
#endif
}
