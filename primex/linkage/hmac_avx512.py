"""HMAC-SHA256 of 16 messages at once: a multi-buffer SHA-256 in AVX-512 vectors (numba).

Why hand-written: see `hmac_kernel` for why the HMAC kernel is ours at all. SHA-NI computes
one message at a time and is bound by its throughput (≈ 43 ns per compression here; two
interleaved SHA-NI streams gave nothing). The scalar SHA-256 rounds are only rotations,
and/xor and additions, so sixteen messages fit in the sixteen 32-bit lanes of an AVX-512
register: each lane is one row, the message words are transposed (`w[t][lane]`). LLVM
turns the rotations into `vprold` and the Boolean functions into `vpternlogd`; no library
we can use offers a multi-buffer SHA-256 with a raw-byte HMAC key.

The HMAC is computed as in `hmac_kernel`: from the ipad/opad midstates (broadcast to every
lane), one compression for the inner block (prefix + message + padding: the words the
message does not touch are the same for every row and are written once) and one for the
outer block (inner digest + constant padding, folded by LLVM). The rows' words are read with
one gather per block word (per character for code points; byte by byte at a uint8 array's
ends, where a whole word could lie outside it), the digit check runs on the vectors, the hex
digits are made with arithmetic on the vectors (nibbles spread into 64-bit lanes, + '0',
+ 39 above 9) and put back one row after the other with vector shuffles. A last batch of
fewer than 16 rows runs with stale lanes, whose results are ignored.

Measured on this project's machine (AVX-512 and SHA-NI, one core, 5 M rows of 11 digits,
CPU time): 14 ns per compression against 43 ns with SHA-NI; the whole kernel 0.17-0.19 s
against 0.58 s (3x); reading and writing the rows one lane at a time instead cost 0.05 s
more (0.1 s more for code points). The code is plain LLVM vector IR (no x86 intrinsic),
correct on any CPU, but compiled only where AVX-512F makes it fast.
"""

from __future__ import annotations

import os

import numpy as np

from primex.linkage.sha256_common import HAVE_NUMBA, K, njit

LANES = 16


def host_has_avx512() -> bool:
    """Whether numba compiles for a CPU with AVX-512F (NUMBA_CPU_NAME/FEATURES honoured: a
    generic target for portable caches has no AVX-512; NUMBA_ENABLE_AVX=0 neither)."""
    if os.environ.get("NUMBA_CPU_NAME") or os.environ.get("NUMBA_CPU_FEATURES"):
        return "+avx512f" in os.environ.get("NUMBA_CPU_FEATURES", "").split(",")
    try:
        import llvmlite.binding as llvm
        from numba.core import config

        return bool(config.ENABLE_AVX and llvm.get_host_cpu_features().get("avx512f", False))
    except Exception:  # any doubt: not this kernel
        return False


HAVE_AVX512 = HAVE_NUMBA and host_has_avx512()

if HAVE_NUMBA:
    from llvmlite import ir
    from numba.core import types
    from numba.core.extending import intrinsic

    _I32, _I64 = ir.IntType(32), ir.IntType(64)
    _V32, _V64 = ir.VectorType(_I32, LANES), ir.VectorType(_I64, LANES)

    def _splat(vtype: ir.VectorType, value: int) -> ir.Constant:
        return ir.Constant(vtype, [ir.Constant(vtype.element, value)] * vtype.count)

    class _Vec:
        """The few vector operations the rounds need, on `<16 x i32>` values."""

        def __init__(self, builder: ir.IRBuilder) -> None:
            self.b = builder

        def add(self, *xs):  # type: ignore[no-untyped-def]
            total = xs[0]
            for x in xs[1:]:
                total = self.b.add(total, x)
            return total

        def xor(self, *xs):  # type: ignore[no-untyped-def]
            total = xs[0]
            for x in xs[1:]:
                total = self.b.xor(total, x)
            return total

        def rotr(self, x, n: int):  # type: ignore[no-untyped-def]
            return self.b.or_(self.b.lshr(x, _splat(_V32, n)), self.b.shl(x, _splat(_V32, 32 - n)))

        def shr(self, x, n: int):  # type: ignore[no-untyped-def]
            return self.b.lshr(x, _splat(_V32, n))

        def splat(self, scalar, vtype=_V32):  # type: ignore[no-untyped-def]
            one = self.b.insert_element(ir.Constant(vtype, ir.Undefined), scalar,
                                        ir.Constant(_I32, 0))
            return self.b.shuffle_vector(one, ir.Constant(vtype, ir.Undefined),
                                         ir.Constant(_V32, [ir.Constant(_I32, 0)] * LANES))

        def splat64(self, scalar):  # type: ignore[no-untyped-def]
            return self.splat(scalar, _V64)

    def _compress16(v: _Vec, state: list, w: list) -> list:
        """FIPS 180-4 §6.2.2 on 16 lanes: the state after one block (state + rounds)."""
        b = v.b
        w = list(w)
        a, bb, c, d, e, f, g, h = state
        for t in range(64):
            if t >= 16:
                x, y = w[t - 15], w[t - 2]
                s0 = v.xor(v.rotr(x, 7), v.rotr(x, 18), v.shr(x, 3))
                s1 = v.xor(v.rotr(y, 17), v.rotr(y, 19), v.shr(y, 10))
                w.append(v.add(w[t - 16], s0, w[t - 7], s1))
            big_s1 = v.xor(v.rotr(e, 6), v.rotr(e, 11), v.rotr(e, 25))
            ch = b.xor(g, b.and_(e, b.xor(f, g)))
            t1 = v.add(h, big_s1, ch, b.add(w[t], _splat(_V32, int(K[t]))))
            big_s0 = v.xor(v.rotr(a, 2), v.rotr(a, 13), v.rotr(a, 22))
            maj = b.or_(b.and_(a, bb), b.and_(c, b.or_(a, bb)))
            t2 = b.add(big_s0, maj)
            h, g, f, e, d, c, bb, a = g, f, e, b.add(d, t1), c, bb, a, b.add(t1, t2)
        return [b.add(s, x) for s, x in zip(state, (a, bb, c, d, e, f, g, h), strict=True)]

    def _arrays(context, builder, signature, args):  # type: ignore[no-untyped-def]
        """The data pointers of the array arguments; integers widened to i64."""
        return [context.make_array(t)(context, builder, val).data if isinstance(t, types.Array)
                else builder.sext(val, _I64) if isinstance(t, types.Integer) and t.signed
                and val.type != _I64 else val
                for t, val in zip(signature.args, args, strict=True)]

    def _vector_at(builder, ptr, index, vtype):  # type: ignore[no-untyped-def]
        p = builder.gep(ptr, [index])
        return builder.bitcast(p, vtype.as_pointer())

    @intrinsic
    def _hmac16(typingctx, inner, outer, w, dig):  # type: ignore[no-untyped-def]
        """dig[t*16 + lane] = word t of HMAC's outer digest for the inner block words
        w[t*16 + lane] (t < 16) of 16 rows; inner/outer are the ipad/opad midstates."""
        sig = types.void(inner, outer, w, dig)

        def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
            v = _Vec(builder)
            in_ptr, out_ptr, w_ptr, dig_ptr = _arrays(context, builder, signature, args)

            def midstate(ptr):  # type: ignore[no-untyped-def]
                return [v.splat(builder.load(builder.gep(ptr, [ir.Constant(_I64, t)])))
                        for t in range(8)]

            words = [builder.load(_vector_at(builder, w_ptr, ir.Constant(_I64, LANES * t),
                                             _V32), align=4) for t in range(16)]
            inner_digest = _compress16(v, midstate(in_ptr), words)
            # outer block: the 32-byte inner digest, 0x80, zeros, length (64 + 32) * 8 bits
            pad = [_splat(_V32, 0x80000000)] + [_splat(_V32, 0)] * 6 + [_splat(_V32, 768)]
            digest = _compress16(v, midstate(out_ptr), inner_digest + pad)
            for t, word in enumerate(digest):
                builder.store(word, _vector_at(builder, dig_ptr, ir.Constant(_I64, LANES * t),
                                               _V32), align=4)
            return context.get_dummy_value()

        return sig, codegen

    def _hex_vector(builder, word):  # type: ignore[no-untyped-def]
        """The 8 lowercase hex characters of each lane of `word` as a `<16 x i64>` (ASCII,
        first character in the lowest byte, as one little-endian 64-bit store writes it)."""
        # the word's bytes, top byte first, each in its own 16-bit slot
        x = builder.zext(word, _V64)
        x = builder.or_(builder.lshr(x, _splat(_V64, 16)),
                        builder.shl(builder.and_(x, _splat(_V64, 0xFFFF)), _splat(_V64, 32)))
        low = _splat(_V64, 0x000000FF000000FF)
        x = builder.or_(builder.and_(builder.lshr(x, _splat(_V64, 8)), low),
                        builder.shl(builder.and_(x, low), _splat(_V64, 16)))
        # high nibble to the even byte, low nibble to the odd byte
        nib = _splat(_V64, 0x000F000F000F000F)
        x = builder.or_(builder.and_(builder.lshr(x, _splat(_V64, 4)), nib),
                        builder.shl(builder.and_(x, nib), _splat(_V64, 8)))
        over9 = builder.and_(builder.lshr(builder.add(x, _splat(_V64, 0x0606060606060606)),
                                          _splat(_V64, 4)),
                             _splat(_V64, 0x0101010101010101))
        return builder.add(builder.add(x, _splat(_V64, 0x3030303030303030)),
                           builder.mul(over9, _splat(_V64, 39)))

    def _index(builder, value, scale: int):  # type: ignore[no-untyped-def]
        wide = builder.sext(value, _I64) if value.type != _I64 else value
        return builder.mul(wide, ir.Constant(_I64, scale))

    @intrinsic
    def _hex16(typingctx, dig, t, hexed):  # type: ignore[no-untyped-def]
        """hexed[t*16 + lane] = the 8 hex characters of dig[t*16 + lane] (`_hex_vector`)."""
        sig = types.void(dig, t, hexed)

        def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
            dig_ptr, _, hex_ptr = _arrays(context, builder, signature, args)
            at = _index(builder, args[1], LANES)
            word = builder.load(_vector_at(builder, dig_ptr, at, _V32), align=4)
            builder.store(_hex_vector(builder, word), _vector_at(builder, hex_ptr, at, _V64),
                          align=8)
            return context.get_dummy_value()

        return sig, codegen

    @intrinsic
    def _emit_hex16(typingctx, dig, out64, row, words):  # type: ignore[no-untyped-def]
        """out64[(row + lane)*words + t] = the hex of dig[t*16 + lane] for 16 rows: the
        transposition back to one row after the other done with vector shuffles (`words`, a
        literal, is the number of 4-byte digest words per row)."""
        if not isinstance(words, types.IntegerLiteral):
            return None
        count = words.literal_value
        sig = types.void(dig, out64, row, words)

        def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
            dig_ptr, out_ptr, _, _ = _arrays(context, builder, signature, args)
            parts = [_hex_vector(builder, builder.load(
                _vector_at(builder, dig_ptr, ir.Constant(_I64, LANES * t), _V32), align=4))
                for t in range(count)]
            while len(parts) > 1:  # concatenate: one vector of 16 * count (padded) lanes
                if len(parts) % 2:
                    parts.append(ir.Constant(parts[0].type, ir.Undefined))
                width = 2 * parts[0].type.count
                parts = [builder.shuffle_vector(parts[i], parts[i + 1], ir.Constant(
                    ir.VectorType(_I32, width), list(range(width))))
                    for i in range(0, len(parts), 2)]
            rows_first = [(k % count) * LANES + k // count for k in range(LANES * count)]
            flat = parts[0]
            vtype = ir.VectorType(_I64, LANES * count)
            rows = builder.shuffle_vector(flat, ir.Constant(flat.type, ir.Undefined),
                                          ir.Constant(ir.VectorType(_I32, len(rows_first)),
                                                      rows_first))
            at = _index(builder, args[2], count)
            out_ptr = builder.bitcast(out_ptr, _I64.as_pointer())  # any dtype: 8-byte units
            builder.store(rows, _vector_at(builder, out_ptr, at, vtype), align=8)
            return context.get_dummy_value()

        return sig, codegen

    @intrinsic
    def _gather_words(  # type: ignore[no-untyped-def]
        typingctx, data, start, stride, rows, w, t, fixed, mask,
    ):
        """w[t*16 + lane] = fixed | (mask & the big-endian word at byte start + lane*stride
        of a uint8 array), for lanes < rows (the others keep their value): one gather."""
        sig = types.void(data, start, stride, rows, w, t, fixed, mask)

        def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
            v = _Vec(builder)
            data_ptr, start, stride, rows, w_ptr, t, fixed, mask = (
                _arrays(context, builder, signature, args))
            lane_ids = ir.Constant(_V64, [ir.Constant(_I64, k) for k in range(LANES)])
            base = builder.add(builder.ptrtoint(data_ptr, _I64), start)
            addrs = builder.add(v.splat64(base), builder.mul(v.splat64(stride), lane_ids))
            ptrs = builder.inttoptr(addrs, ir.VectorType(_I32.as_pointer(), LANES))
            live = builder.icmp_signed("<", lane_ids, v.splat64(rows))
            at = _vector_at(builder, w_ptr, _index(builder, t, LANES), _V32)
            old = builder.load(at, align=4)
            module = builder.module
            name = "llvm.masked.gather.v16i32.v16p0"
            gather = module.globals.get(name) or ir.Function(module, ir.FunctionType(
                _V32, [ptrs.type, _I32, live.type, _V32]), name=name)
            swap = module.globals.get("llvm.bswap.v16i32") or ir.Function(
                module, ir.FunctionType(_V32, [_V32]), name="llvm.bswap.v16i32")
            got = builder.call(swap, [builder.call(gather, [ptrs, ir.Constant(_I32, 1), live,
                                                            ir.Constant(_V32, ir.Undefined)])])
            word = builder.or_(v.splat(fixed), builder.and_(got, v.splat(mask)))
            builder.store(builder.select(live, word, old), at, align=4)
            return context.get_dummy_value()

        return sig, codegen

    @intrinsic
    def _gather_chars(  # type: ignore[no-untyped-def]
        typingctx, data, start, stride, rows, w, t, shift,
    ):
        """Character `start + lane*stride` of `data` (code points) ORed into w[t*16 + lane]
        at bit `shift`, for lanes < rows; returns bit `lane` set where it is no ASCII digit."""
        sig = types.uint64(data, start, stride, rows, w, t, shift)

        def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
            v = _Vec(builder)
            data_ptr, start, stride, rows, w_ptr, t, shift = (
                _arrays(context, builder, signature, args))
            bits = signature.args[0].dtype.bitwidth
            elem = ir.IntType(bits)
            lane_ids = ir.Constant(_V64, [ir.Constant(_I64, k) for k in range(LANES)])
            index = builder.add(v.splat64(start), builder.mul(v.splat64(stride), lane_ids))
            addrs = builder.add(v.splat64(builder.ptrtoint(data_ptr, _I64)),
                                builder.mul(index, _splat(_V64, bits // 8)))
            ptrs = builder.inttoptr(addrs, ir.VectorType(elem.as_pointer(), LANES))
            live = builder.icmp_signed("<", lane_ids, v.splat64(rows))
            vtype = ir.VectorType(elem, LANES)
            name = f"llvm.masked.gather.v16i{bits}.v16p0"
            gather = builder.module.globals.get(name) or ir.Function(
                builder.module, ir.FunctionType(vtype, [ptrs.type, _I32, live.type, vtype]),
                name=name)
            got = builder.call(gather, [ptrs, ir.Constant(_I32, bits // 8), live,
                                        ir.Constant(vtype, None)])
            chars = builder.zext(got, _V32) if bits < 32 else builder.trunc(got, _V32) \
                if bits > 32 else got
            not_digit = builder.icmp_unsigned(">", builder.sub(chars, _splat(_V32, 48)),
                                              _splat(_V32, 9))
            at = _vector_at(builder, w_ptr, _index(builder, t, LANES), _V32)
            old = builder.load(at, align=4)
            shifted = builder.shl(builder.and_(chars, _splat(_V32, 0xFF)),
                                  v.splat(builder.trunc(shift, _I32)))
            builder.store(builder.select(live, builder.or_(old, shifted), old), at, align=4)
            bad = builder.and_(live, not_digit)
            return builder.zext(builder.bitcast(bad, ir.IntType(LANES)), _I64)

        return sig, codegen

    @intrinsic
    def _bad_lanes(typingctx, w, t, mask):  # type: ignore[no-untyped-def]
        """Bit `lane` set if a byte of w[t*16 + lane] under `mask` is not an ASCII digit."""
        sig = types.uint64(w, t, mask)

        def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
            v = _Vec(builder)
            ptr = context.make_array(signature.args[0])(context, builder, args[0]).data
            at = builder.mul(builder.sext(args[1], _I64) if args[1].type != _I64 else args[1],
                             ir.Constant(_I64, LANES))
            word = builder.load(_vector_at(builder, ptr, at, _V32), align=4)
            m = v.splat(args[2])
            # bytes outside the message read as '0'; then per byte, without carries:
            # high bit set, below '0' (x + 0x50 < 0x80), above '9' (x + 0x46 >= 0x80)
            x = builder.or_(builder.and_(word, m),
                            builder.and_(_splat(_V32, 0x30303030), builder.not_(m)))
            top = _splat(_V32, 0x80808080)
            low7 = builder.and_(x, _splat(_V32, 0x7F7F7F7F))
            at_least_0 = builder.and_(builder.add(low7, _splat(_V32, 0x50505050)), top)
            above_9 = builder.and_(builder.add(low7, _splat(_V32, 0x46464646)), top)
            bad = builder.or_(builder.or_(builder.and_(x, top), above_9),
                              builder.xor(at_least_0, top))
            lanes = builder.icmp_unsigned("!=", bad, _splat(_V32, 0))
            return builder.zext(builder.bitcast(lanes, ir.IntType(LANES)), _I64)

        return sig, codegen

    _u32 = np.uint32

    @njit(inline="always")
    def _first_lane(bad: np.uint64) -> int:
        lane = 0
        while not (bad >> np.uint64(lane)) & np.uint64(1):
            lane += 1
        return lane

    @njit(inline="always")
    def _load_bytewise(template: np.ndarray, prefix_len: int, flat: np.ndarray, length: int,
                       digits_only: bool, base: int, rows: int, w: np.ndarray) -> int:
        """The inner block words of rows base.. one character at a time (the batches at a
        uint8 array's ends, where a whole-word read could leave the array); returns the
        first row that is not all digits, or -1."""
        for lane in range(rows):
            i = base + lane
            t = prefix_len >> 2
            acc = template[t]
            for j in range(length):
                c = _u32(flat[i * length + j])
                if digits_only and _u32(c - _u32(48)) > _u32(9):
                    return i
                pos = prefix_len + j
                if pos >> 2 != t:
                    w[t * LANES + lane] = acc
                    t = pos >> 2
                    acc = template[t]
                acc |= c << _u32(24 - 8 * (pos & 3))
            w[t * LANES + lane] = acc
        return -1

    @njit(nogil=True)
    def nb_kernel_avx512(
        template: np.ndarray, prefix_len: int, messages: np.ndarray, inner: np.ndarray,
        outer: np.ndarray, out_len: int, as_hex: bool, digits_only: bool, out: np.ndarray,
        out64: np.ndarray,
    ) -> int:
        """The `hmac_kernel` row loop, 16 rows per step: `template` is the inner block's 16
        words with the message bytes zero; `out64` views a uint8 hex `out` as uint64 (for
        other outputs it is unused). Returns the first row that is not all digits, or -1."""
        n, length = messages.shape
        flat = messages.reshape(n * length)
        out_flat = out.reshape(n * out.shape[1])
        w = np.empty(16 * LANES, np.uint32)
        for t in range(16):
            for lane in range(LANES):
                w[t * LANES + lane] = template[t]
        mask = np.zeros(16, np.uint32)  # the message's bytes in each block word
        for j in range(length):
            pos = prefix_len + j
            mask[pos >> 2] |= _u32(0xFF) << _u32(24 - 8 * (pos & 3))
        dig = np.empty(8 * LANES, np.uint32)
        hexed = np.empty(8 * LANES, np.uint64)
        row_chars = np.empty(LANES * 64, np.uint8)  # 16 rows of hex, before widening
        first_word = prefix_len >> 2
        last_word = (prefix_len + length - 1) >> 2
        words = out_len // 4
        for base in range(0, n, LANES):
            rows = min(LANES, n - base)
            lo = base * length + 4 * first_word - prefix_len
            hi = (base + rows - 1) * length + 4 * last_word + 4 - prefix_len
            bad = np.uint64(0)
            if messages.itemsize == 1 and length and lo >= 0 and hi <= n * length:
                # whole big-endian words straight from the rows' bytes (reads inside the array)
                for t in range(first_word, last_word + 1):
                    _gather_words(flat, base * length - prefix_len + 4 * t, length, rows, w, t,
                                  template[t], mask[t])
                    bad |= _bad_lanes(w, t, mask[t])
                bad &= np.uint64((1 << rows) - 1)
            elif messages.itemsize != 1:  # code points: one gather per character
                for t in range(first_word, last_word + 1):
                    for lane in range(LANES):
                        w[t * LANES + lane] = template[t]
                for j in range(length):
                    pos = prefix_len + j
                    bad |= _gather_chars(flat, base * length + j, length, rows, w, pos >> 2,
                                         24 - 8 * (pos & 3))
            else:
                first_bad = _load_bytewise(template, prefix_len, flat, length, digits_only,
                                           base, rows, w)
                if first_bad >= 0:
                    return first_bad
            if digits_only and bad:
                return base + _first_lane(bad)
            _hmac16(inner, outer, w, dig)
            if not as_hex:
                for lane in range(rows):
                    for t in range(words):
                        v = dig[t * LANES + lane]
                        for k in range(4):
                            out[base + lane, 4 * t + k] = (v >> _u32(24 - 8 * k)) & _u32(0xFF)
            elif rows == LANES and (words == 4 or words == 8):  # rows back in order: shuffles
                if out64.shape[0]:  # uint8 characters
                    if words == 4:
                        _emit_hex16(dig, out64, base, 4)
                    else:
                        _emit_hex16(dig, out64, base, 8)
                else:  # code points: widened from the bytes in one vectorised loop
                    if words == 4:
                        _emit_hex16(dig, row_chars, 0, 4)
                    else:
                        _emit_hex16(dig, row_chars, 0, 8)
                    start = base * 8 * words
                    for k in range(LANES * 8 * words):
                        out_flat[start + k] = row_chars[k]
            else:
                for t in range(words):
                    _hex16(dig, t, hexed)
                for lane in range(rows):
                    for t in range(words):
                        h = hexed[t * LANES + lane]
                        if out64.shape[0]:  # 8 characters per store
                            out64[(base + lane) * words + t] = h
                        else:
                            for k in range(8):
                                out[base + lane, 8 * t + k] = (
                                    (h >> np.uint64(8 * k)) & np.uint64(0xFF))
        return -1
