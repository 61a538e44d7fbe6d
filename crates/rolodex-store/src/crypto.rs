//! Token encryption at rest: XChaCha20-Poly1305 with a 256-bit key from settings. A stored token
//! is `base64(nonce || ciphertext)`; the associated data binds it to its connection and column,
//! so a ciphertext copied to another row does not decrypt. Keys and plaintexts are never logged.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, Generate, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use secrecy::{ExposeSecret, SecretString};

/// The encryption key is not 32 bytes of base64.
#[derive(Debug, thiserror::Error)]
#[error("the token encryption key must be 32 bytes, base64-encoded (generate one with `openssl rand -base64 32`)")]
pub struct InvalidKey;

/// Encrypts and decrypts connection tokens.
#[derive(Clone)]
pub struct TokenCipher {
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for TokenCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenCipher([REDACTED])")
    }
}

const NONCE_LEN: usize = 24;

impl TokenCipher {
    /// A cipher from a base64-encoded 32-byte key.
    ///
    /// # Errors
    /// [`InvalidKey`] when it is not 32 bytes of base64.
    pub fn from_base64(key: &SecretString) -> Result<Self, InvalidKey> {
        let bytes = STANDARD.decode(key.expose_secret().trim()).map_err(|_| InvalidKey)?;
        let key = Key::try_from(bytes.as_slice()).map_err(|_| InvalidKey)?;
        Ok(Self { cipher: XChaCha20Poly1305::new(&key) })
    }

    /// A cipher from raw key bytes.
    #[must_use]
    pub fn from_bytes(key: [u8; 32]) -> Self {
        Self { cipher: XChaCha20Poly1305::new(&Key::from(key)) }
    }

    /// Encrypts `plain` bound to `aad`.
    pub(crate) fn encrypt(&self, plain: &SecretString, aad: &str) -> Result<String, String> {
        let nonce = XNonce::try_generate().map_err(|e| format!("no randomness for a nonce: {e}"))?;
        let ct = self
            .cipher
            .encrypt(&nonce, Payload { msg: plain.expose_secret().as_bytes(), aad: aad.as_bytes() })
            .map_err(|_| "encryption failed".to_owned())?;
        let mut out = Vec::with_capacity(NONCE_LEN + ct.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        Ok(STANDARD.encode(out))
    }

    /// Decrypts what [`Self::encrypt`] produced with the same `aad`; `None` when it does not
    /// authenticate (wrong key, other row, tampered).
    pub(crate) fn decrypt(&self, stored: &str, aad: &str) -> Option<SecretString> {
        let bytes = STANDARD.decode(stored).ok()?;
        if bytes.len() < NONCE_LEN {
            return None;
        }
        let (nonce, ct) = bytes.split_at(NONCE_LEN);
        let nonce = XNonce::try_from(nonce).ok()?;
        let plain = self.cipher.decrypt(&nonce, Payload { msg: ct, aad: aad.as_bytes() }).ok()?;
        String::from_utf8(plain).ok().map(SecretString::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_binding() {
        let key = SecretString::from(STANDARD.encode([7u8; 32]));
        let c = TokenCipher::from_base64(&key).unwrap();
        let stored = c.encrypt(&SecretString::from("tok-123"), "conn-a/access").unwrap();
        assert!(!stored.contains("tok-123"));
        assert_eq!(c.decrypt(&stored, "conn-a/access").unwrap().expose_secret(), "tok-123");
        assert!(c.decrypt(&stored, "conn-b/access").is_none(), "bound to its row");
        let other = TokenCipher::from_base64(&SecretString::from(STANDARD.encode([8u8; 32]))).unwrap();
        assert!(other.decrypt(&stored, "conn-a/access").is_none(), "wrong key");
        assert!(TokenCipher::from_base64(&SecretString::from("short")).is_err());
    }
}
