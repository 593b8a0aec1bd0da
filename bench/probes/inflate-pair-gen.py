#!/usr/bin/env python3
"""Writes the headers of bench/probes/inflate-pair.c into the folder OUT, from the vendored
libdeflate's decompress_template.h (MIT, native/libdeflate/COPYING): stream_template.h, that
decoder with its state in a struct so that it can stop at a block's end or its fastloop's bounds
and go on later, and item_A.h / item_B.h, the fastloop's body for each of two streams.
   python3 bench/probes/inflate-pair-gen.py native/libdeflate/lib/decompress_template.h OUT"""
import os, re, sys
src = open(sys.argv[1]).read()
out_dir = sys.argv[2]
lines = src.split('\n')
def find(pat, start=0):
    for i in range(start, len(lines)):
        if pat in lines[i]: return i
    raise SystemExit('not found: ' + pat)
# ---- stream template
fn = find('FUNCNAME(struct libdeflate_decompressor * restrict d,')
nb = find('next_block:')
body = lines[nb:]
text = '\n'.join(body)
text = text.replace('have_decode_tables:\n\tlitlen_tablemask = BITMASK(d->litlen_tablebits);',
 'have_decode_tables:\n\tlitlen_tablemask = BITMASK(d->litlen_tablebits);\n'
 '\tif (allow_yield && in_next < in_fastloop_end && out_next < out_fastloop_end) {\n\t\tSTREAM_SAVE(PH_FAST);\n\t\treturn ST_YIELD;\n\t}')
old_end = text[text.index('\t/* Optionally return the actual number of bytes consumed. */'):text.index('#undef FUNCNAME')]
text = text.replace(old_end, '\tin_next -= (bitsleft >> 3) - overread_count;\n\ts->in_used = in_next - in;\n\tif (out_next != out_end)\n\t\treturn LIBDEFLATE_SHORT_OUTPUT;\n\treturn LIBDEFLATE_SUCCESS;\n}\n\n')
pro = '''#ifndef ATTRIBUTES
#  define ATTRIBUTES
#endif
#ifndef EXTRACT_VARBITS
#  define EXTRACT_VARBITS(word, count)	((word) & BITMASK(count))
#endif
#ifndef EXTRACT_VARBITS8
#  define EXTRACT_VARBITS8(word, count)	((word) & BITMASK((u8)(count)))
#endif
static ATTRIBUTES MAYBE_UNUSED int
FUNCNAME(struct stream * restrict s, int allow_yield)
{
	struct libdeflate_decompressor * restrict d = s->d;
	u8 * const out = s->out;
	u8 *out_next = s->out_next;
	u8 * const out_end = s->out_end;
	u8 * const out_fastloop_end = s->out_fastloop_end;
	const u8 * const in = s->in;
	const u8 *in_next = s->in_next;
	const u8 * const in_end = s->in_end;
	const u8 * const in_fastloop_end = s->in_fastloop_end;
	bitbuf_t bitbuf = s->bitbuf;
	bitbuf_t saved_bitbuf;
	u32 bitsleft = s->bitsleft;
	size_t overread_count = s->overread_count;
	bool is_final_block = s->is_final_block;
	unsigned block_type;
	unsigned num_litlen_syms;
	unsigned num_offset_syms;
	bitbuf_t litlen_tablemask;
	u32 entry;
	if (s->phase == PH_BLOCK_DONE)
		goto block_done;
	if (s->phase == PH_FAST)
		goto have_decode_tables;
'''
open(os.path.join(out_dir, 'stream_template.h'), 'w').write(pro + text)
# ---- the fastloop item
a = find('\t\tsaved_bitbuf = bitbuf;', find('\tdo {', find('have_decode_tables:')))
b = find('\t} while (in_next < in_fastloop_end && out_next < out_fastloop_end);')
item = '\n'.join(lines[a:b])
def stream(item, X):
    t = item
    t = t.replace('REFILL_BITS_IN_FASTLOOP()', f'REFILL_{X}()')
    t = re.sub(r'SAFETY_CHECK\((.*)\);', lambda m: f'if (unlikely(!({m.group(1)}))) goto bad_{X};', t)
    t = t.replace('continue;', f'goto next_{X};').replace('goto block_done;', f'goto eob_{X};')
    for name in ['in_next', 'bitbuf', 'saved_bitbuf', 'bitsleft', 'entry', 'litlen_tablemask', 'out_next', 'out', 'd']:
        t = re.sub(r'(?<![\w.>])' + name + r'\b', name + '_' + X, t)
    return '\t{\n\t\tu32 length, offset, lit;\n\t\tconst u8 *src;\n\t\tu8 *dst;\n' + t + '\n\t}\n'
open(os.path.join(out_dir, 'item_A.h'), 'w').write(stream(item, 'A'))
open(os.path.join(out_dir, 'item_B.h'), 'w').write(stream(item, 'B'))
