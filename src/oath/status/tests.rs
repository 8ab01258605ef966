use super::*;

#[test]
fn every_status_word_round_trips() {
    for sw in 0..=u16::MAX {
        let [a, b] = sw.to_be_bytes();
        assert_eq!(StatusWord::from_bytes(a, b).to_u16(), sw);
    }
}

#[test]
fn named_words_decode_to_their_variant() {
    assert_eq!(StatusWord::from_bytes(0x6A, 0x84), StatusWord::NoSpace);
    assert_eq!(
        StatusWord::from_bytes(0x61, 0x10),
        StatusWord::MoreData(0x10)
    );
    assert_eq!(StatusWord::from_bytes(0x69, 0x82).to_string(), "6982");
}
