//! Decoders for the program's accounts (discriminator checked).
use anchor_lang::{AccountDeserialize, Discriminator};
use ballast::state::{Market, Position, Reserve};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    WrongDiscriminator,
    WrongSize { expected: usize, got: usize },
    Borsh,
}

fn zero_copy<T: bytemuck::Pod + Discriminator>(data: &[u8]) -> Result<T, DecodeError> {
    let disc = T::DISCRIMINATOR;
    if !data.starts_with(disc) {
        return Err(DecodeError::WrongDiscriminator);
    }
    let body = &data[disc.len()..];
    let expected = core::mem::size_of::<T>();
    if body.len() != expected {
        return Err(DecodeError::WrongSize { expected, got: body.len() });
    }
    // Copy out: account bytes from RPC carry no alignment guarantee.
    Ok(bytemuck::pod_read_unaligned(body))
}

pub fn reserve(data: &[u8]) -> Result<Reserve, DecodeError> {
    zero_copy(data)
}

pub fn position(data: &[u8]) -> Result<Position, DecodeError> {
    zero_copy(data)
}

pub fn market(data: &[u8]) -> Result<Market, DecodeError> {
    let mut d = data;
    Market::try_deserialize(&mut d).map_err(|_| DecodeError::Borsh)
}
