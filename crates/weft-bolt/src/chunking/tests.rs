use proptest::prelude::*;

use super::*;

fn decode_all(decoder: &mut ChunkDecoder) -> Vec<Vec<u8>> {
    std::iter::from_fn(|| decoder.next_message()).collect()
}

#[test]
fn small_message_is_one_chunk() {
    let mut out = Vec::new();
    ChunkEncoder::default().encode(&[0xB0, 0x0F], &mut out);
    assert_eq!(out, [0x00, 0x02, 0xB0, 0x0F, 0x00, 0x00]);
}

#[test]
fn large_message_splits_at_65535() {
    // Encode 70,000 bytes: one full chunk, one of 4,465 bytes, then the end marker.
    let message = vec![7u8; 70_000];
    let mut out = Vec::new();
    ChunkEncoder::default().encode(&message, &mut out);
    assert_eq!(out[..2], [0xFF, 0xFF]);
    assert_eq!(out[2 + 65_535..2 + 65_535 + 2], 4_465u16.to_be_bytes());
    assert_eq!(out[out.len() - 2..], [0, 0]);
    assert_eq!(out.len(), 70_000 + 6);
    // Decode it back.
    let mut decoder = ChunkDecoder::default();
    decoder.feed(&out).unwrap();
    assert_eq!(decode_all(&mut decoder), vec![message]);
}

#[test]
fn noops_between_messages_are_skipped() {
    // NOOP, message, NOOP, NOOP, message.
    let bytes = [0, 0, 0, 1, 0xAA, 0, 0, 0, 0, 0, 0, 0, 2, 0xBB, 0xCC, 0, 0];
    let mut decoder = ChunkDecoder::default();
    decoder.feed(&bytes).unwrap();
    assert_eq!(decode_all(&mut decoder), vec![vec![0xAA], vec![0xBB, 0xCC]]);
    assert!(!decoder.is_mid_message());
}

#[test]
fn partial_input_waits_for_the_rest() {
    let mut decoder = ChunkDecoder::default();
    decoder.feed(&[0, 3, 1, 2]).unwrap();
    assert_eq!(decoder.next_message(), None);
    assert!(decoder.is_mid_message());
    decoder.feed(&[3, 0]).unwrap();
    assert_eq!(decoder.next_message(), None);
    decoder.feed(&[0]).unwrap();
    assert_eq!(decoder.next_message(), Some(vec![1, 2, 3]));
}

#[test]
fn oversized_message_fails_the_decoder() {
    // Two chunks of 6 bytes against a limit of 10: the second header is refused.
    let mut decoder = ChunkDecoder::new(10);
    decoder.feed(&[0, 6, 1, 2, 3, 4, 5, 6]).unwrap();
    assert_eq!(decoder.feed(&[0, 6]), Err(ChunkError::MessageTooLarge { limit: 10 }));
    // The decoder stays failed.
    assert_eq!(decoder.feed(&[0, 0]), Err(ChunkError::Failed));
    assert_eq!(decoder.feed(&[]), Err(ChunkError::Failed));
}

proptest! {
    #[test]
    fn any_split_reassembles(
        messages in prop::collection::vec(prop::collection::vec(any::<u8>(), 1..300), 1..5),
        chunk_len in 1usize..64,
        noops in prop::collection::vec(any::<bool>(), 5),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..10),
    ) {
        // Encode every message with small chunks, some preceded by NOOPs.
        let encoder = ChunkEncoder::with_max_chunk_len(chunk_len);
        let mut stream = Vec::new();
        for (message, noop) in messages.iter().zip(noops) {
            if noop {
                stream.extend_from_slice(&[0, 0]);
            }
            encoder.encode(message, &mut stream);
        }
        // Feed the stream cut at random points.
        let mut points: Vec<usize> = cuts.iter().map(|i| i.index(stream.len() + 1)).collect();
        points.extend([0, stream.len()]);
        points.sort_unstable();
        let mut decoder = ChunkDecoder::default();
        for pair in points.windows(2) {
            decoder.feed(&stream[pair[0]..pair[1]]).unwrap();
        }
        // Every message comes back, in order, and nothing is left half-read.
        prop_assert_eq!(decode_all(&mut decoder), messages);
        prop_assert!(!decoder.is_mid_message());
    }
}
