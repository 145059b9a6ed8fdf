//! Decoding the program's Anchor events from transaction logs (`Program data: <base64>` lines).
use anchor_lang::{AnchorDeserialize, Discriminator};
use base64::Engine;

/// Every event of type `T` in `logs`, in emission order.
pub fn parse<T: AnchorDeserialize + Discriminator>(logs: &[String]) -> Vec<T> {
    logs.iter()
        .filter_map(|line| line.strip_prefix("Program data: "))
        .filter_map(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok())
        .filter(|bytes| bytes.starts_with(T::DISCRIMINATOR))
        .filter_map(|bytes| T::try_from_slice(&bytes[T::DISCRIMINATOR.len()..]).ok())
        .collect()
}
