//! The line limit: over-long lines are reported with their number and skipped without being
//! held, every other line reaches the caller as it was, and the buffer stays bounded.

use std::io::{Cursor, Read};

use super::*;

/// Lines by number: `(number, Some(line))` for a line handed on, `(number, None)` for an
/// over-long one.
type Numbered = Vec<(u64, Option<Vec<u8>>)>;

/// What the pieces said, line by line, what was read, and the buffer's size at the end.
fn pieces(input: Vec<u8>, max: usize, chunk: usize) -> (Numbered, Totals, usize) {
    let mut inp = Input::new("t".into(), Box::new(Cursor::new(input)), max);
    inp.chunk = chunk;
    let mut seen = Vec::new();
    let totals = inp
        .for_each_piece(|p| {
            match p {
                Piece::Lines { chunk, before } => {
                    assert!(!chunk.is_empty());
                    seen.extend(lines(chunk).map(|(i, l)| (before + i + 1, Some(l.to_vec()))));
                }
                Piece::TooLong { line } => seen.push((line, None)),
            }
            Ok(())
        })
        .unwrap();
    (seen, totals, inp.buffer_len())
}

/// The same, worked out line by line from the whole input.
fn expected(input: &[u8], max: usize) -> Numbered {
    if input.is_empty() {
        return Vec::new();
    }
    let body = input.strip_suffix(b"\n").unwrap_or(input);
    body.split(|&c| c == b'\n')
        .zip(1u64..)
        .map(|(l, n)| (n, (l.len() <= max).then(|| l.strip_suffix(b"\r").unwrap_or(l).to_vec())))
        .collect()
}

#[test]
fn first_too_long_finds_the_first_line_over_the_limit() {
    assert_eq!(first_too_long(b"", 3), None);
    assert_eq!(first_too_long(b"\n\n", 3), None);
    assert_eq!(first_too_long(b"abc\n", 3), None);
    assert_eq!(first_too_long(b"abc", 3), None, "a partial line at the limit may still end");
    assert_eq!(first_too_long(b"abcd", 3), Some(0), "a partial line past the limit is over-long");
    assert_eq!(first_too_long(b"abcd\n", 3), Some(0));
    assert_eq!(first_too_long(b"a\nb\nabcd\nx\n", 3), Some(4));
    assert_eq!(first_too_long(b"ab\nabc\nabcdef", 3), Some(7));
    assert_eq!(first_too_long(b"x\nabcde\n", 1), Some(2));
}

#[test]
fn every_line_is_handed_on_or_reported_whatever_the_chunking() {
    // Lines of random lengths (some far over the limit, some blank, some CRLF), cut into
    // chunks of many sizes: the pieces always say what a line-by-line reading says.
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    for round in 0..300 {
        let mut input = Vec::new();
        for _ in 0..next(12) {
            let len = match next(4) {
                0 => next(3),
                1 => next(40),
                _ => next(9),
            };
            input.extend((0..len).map(|i| b'a' + (i % 26) as u8));
            if next(5) == 0 {
                input.push(b'\r');
            }
            input.push(b'\n');
        }
        if next(2) == 0 {
            input.truncate(input.len().saturating_sub(next(4) as usize));
        }
        let max = 1 + next(12) as usize;
        let chunk = 1 + next(20) as usize;
        let (seen, totals, buffer) = pieces(input.clone(), max, chunk);
        let want = expected(&input, max);
        assert_eq!(
            seen,
            want,
            "round {round}: {:?} max {max} chunk {chunk}",
            String::from_utf8_lossy(&input)
        );
        assert_eq!(totals, Totals { lines: want.len() as u64, bytes: input.len() as u64 });
        assert!(buffer <= chunk.max(max + 1), "round {round}: buffer {buffer}");
    }
}

#[test]
fn a_stream_of_nuls_is_skipped_in_a_bounded_buffer() {
    // 64 MiB of NULs as line 2: before the limit, the buffer doubled to 128 MiB to hold it.
    let good = |n: u32| {
        format!(
            "{{\"clientId\":\"G@@@d{n}\",\"channelId\":\"c{n}\",\"eventType\":\"connect\",\"time\":{n}}}\n"
        )
    };
    let reader = Cursor::new(good(1)).chain(std::io::repeat(0).take(64 << 20)).chain(Cursor::new(format!(
        "\n{}{}",
        good(3),
        good(4)
    )));
    let mut inp = Input::new("nul".into(), Box::new(reader), 4096);
    let (mut too_long, mut good_lines) = (Vec::new(), Vec::new());
    let totals = inp
        .for_each_piece(|p| {
            match p {
                Piece::Lines { chunk, before } => {
                    good_lines.extend(lines(chunk).map(|(i, l)| (before + i + 1, l.len())));
                }
                Piece::TooLong { line } => too_long.push(line),
            }
            Ok(())
        })
        .unwrap();
    assert_eq!(too_long, [2]);
    assert_eq!(good_lines.iter().map(|&(n, _)| n).collect::<Vec<_>>(), [1, 3, 4]);
    assert_eq!(totals.lines, 4);
    assert_eq!(inp.buffer_len(), CHUNK, "the buffer never grew");
}

#[test]
fn a_line_longer_than_a_chunk_grows_the_buffer_up_to_the_limit_only() {
    let max = CHUNK + CHUNK / 2;
    let mut input = vec![b' '; CHUNK + 100];
    input.extend(b"\n");
    input.extend(vec![b'x'; max + 1]);
    input.extend(b"\nlast");
    let (seen, totals, buffer) = pieces(input, max, CHUNK);
    let numbers: Vec<_> = seen.iter().map(|(n, l)| (*n, l.as_ref().map(Vec::len))).collect();
    assert_eq!(numbers, [(1, Some(CHUNK + 100)), (2, None), (3, Some(4))]);
    assert_eq!(totals.lines, 3);
    assert_eq!(buffer, max + 1);
}

#[test]
fn the_limit_is_checked() {
    assert!(check_max_line(0).is_err());
    assert!(check_max_line(MAX_LINE_LIMIT + 1).is_err());
    assert_eq!(check_max_line(1).unwrap(), 1);
    let e = too_long(10);
    assert_eq!((e.code().as_str(), e.field()), ("invalid_json", None));
}
