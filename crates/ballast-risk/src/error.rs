/// Why a risk computation could not produce a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MathError {
    /// An intermediate or final value does not fit its type.
    Overflow,
    /// A reserve holds shares but no assets (every unit was lost): its shares cannot be priced.
    SharesWithoutAssets,
}

impl core::fmt::Display for MathError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            MathError::Overflow => f.write_str("arithmetic overflow"),
            MathError::SharesWithoutAssets => f.write_str("reserve has shares but no assets"),
        }
    }
}
