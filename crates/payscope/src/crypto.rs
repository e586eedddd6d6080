//! Secrets at rest: the master key (from the environment or a generated 0600 key file) and AES-256-GCM sealing of
//! API keys and webhook signing secrets, each bound to the row it belongs to.

use std::fs;
use std::io::Write;
use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

/// The file name of the generated master key inside the data directory.
pub const KEY_FILE_NAME: &str = "master.key";

/// Version tag of the sealed format, so a future format can be told apart from this one.
const FORMAT: &str = "ps1";

/// Why a secret could not be sealed or opened. Messages say what to do; none contains secret material.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// The configured master key is not 32 bytes in hex or base64.
    #[error(
        "the master key must be 32 bytes written as 64 hex characters or base64; generate one with `openssl rand -hex 32`"
    )]
    MalformedMasterKey,
    /// The key file could not be read or created.
    #[error("cannot use the master key file {path}: {source}")]
    KeyFile {
        /// Where the key file is.
        path: String,
        /// What the file system said.
        source: std::io::Error,
    },
    /// The sealed value was made with a master key this process does not have.
    #[error(
        "a stored secret was sealed with master key {key_id}, which this process does not have; start payscope with the master key it was created with"
    )]
    UnknownKey {
        /// The key id recorded in the sealed value.
        key_id: String,
    },
    /// The sealed value is damaged, or belongs to another row.
    #[error("a stored secret is damaged or does not belong to this record; re-enter it")]
    Tampered,
}

/// The 32-byte key that seals every secret payscope stores. Debug never shows it.
#[derive(Clone)]
pub struct MasterKey {
    cipher: Aes256Gcm,
    id: String,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MasterKey")
            .field("id", &self.id)
            .field("key", &"[redacted]")
            .finish()
    }
}

impl MasterKey {
    /// Builds a key from raw bytes. The key id (first 8 hex digits of SHA-256 of the key) is stored with every
    /// sealed value so a later rotation knows which key opens it.
    pub fn from_bytes(bytes: &[u8; 32]) -> Self {
        let id = hex::encode(&Sha256::digest(bytes)[..4]);
        Self {
            cipher: Aes256Gcm::new(bytes.into()),
            id,
        }
    }

    /// Parses a key written as 64 hex characters or as base64 of 32 bytes.
    pub fn parse(text: &SecretString) -> Result<Self, CryptoError> {
        let text = text.expose_secret().trim();
        let bytes = hex::decode(text)
            .ok()
            .or_else(|| BASE64.decode(text).ok())
            .ok_or(CryptoError::MalformedMasterKey)?;
        let bytes: [u8; 32] = bytes
            .try_into()
            .map_err(|_| CryptoError::MalformedMasterKey)?;
        Ok(Self::from_bytes(&bytes))
    }

    /// The configured key if there is one; otherwise the key file in `data_dir`, created (mode 0600) on first run.
    pub fn load_or_create(
        configured: Option<&SecretString>,
        data_dir: &Path,
    ) -> Result<Self, CryptoError> {
        if let Some(text) = configured {
            return Self::parse(text);
        }
        let path = data_dir.join(KEY_FILE_NAME);
        let file_error = |source| CryptoError::KeyFile {
            path: path.display().to_string(),
            source,
        };
        match fs::read_to_string(&path) {
            Ok(text) => Self::parse(&SecretString::from(text)),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                fs::create_dir_all(data_dir).map_err(file_error)?;
                let mut bytes = [0u8; 32];
                rand::rngs::OsRng.fill_bytes(&mut bytes);
                write_private_file(&path, hex::encode(bytes).as_bytes()).map_err(file_error)?;
                Ok(Self::from_bytes(&bytes))
            }
            Err(error) => Err(file_error(error)),
        }
    }

    /// The id recorded in every value this key seals.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Encrypts `plaintext` with a fresh random nonce. `context` (e.g. `connection:con_…:api_key`) is
    /// authenticated but not stored, so a sealed value copied into another row no longer opens.
    pub fn seal(&self, plaintext: &str, context: &str) -> String {
        let mut nonce = [0u8; 12];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let ciphertext = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: context.as_bytes(),
                },
            )
            .expect("AES-GCM encryption cannot fail for inputs under 64 GiB");
        let mut body = nonce.to_vec();
        body.extend_from_slice(&ciphertext);
        format!("{FORMAT}.{}.{}", self.id, BASE64.encode(body))
    }

    /// Decrypts a value made by [`MasterKey::seal`] with the same `context`.
    pub fn open(&self, sealed: &str, context: &str) -> Result<SecretString, CryptoError> {
        let mut parts = sealed.splitn(3, '.');
        let (Some(FORMAT), Some(key_id), Some(body)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(CryptoError::Tampered);
        };
        if key_id != self.id {
            return Err(CryptoError::UnknownKey {
                key_id: key_id.to_owned(),
            });
        }
        let body = BASE64.decode(body).map_err(|_| CryptoError::Tampered)?;
        if body.len() < 12 {
            return Err(CryptoError::Tampered);
        }
        let (nonce, ciphertext) = body.split_at(12);
        let plaintext = self
            .cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| CryptoError::Tampered)?;
        String::from_utf8(plaintext)
            .map(SecretString::from)
            .map_err(|_| CryptoError::Tampered)
    }
}

/// A new API token: `pst_` and 32 random base32 characters (160 bits).
pub fn new_api_token() -> SecretString {
    SecretString::from(format!("pst_{}", crate::domain::ids::random_base32(32)))
}

/// The digest stored for an API token (hex SHA-256); the token itself is shown once and never stored.
pub fn api_token_digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Creates `path` readable and writable by its owner only, failing if it already exists (never overwrite a key).
fn write_private_file(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> MasterKey {
        MasterKey::from_bytes(&[7u8; 32])
    }

    #[test]
    fn a_sealed_secret_opens_with_the_same_context_only() {
        let sealed = key().seal("rk_test_abc", "connection:con_1:api_key");
        assert!(!sealed.contains("rk_test_abc"));
        let opened = key().open(&sealed, "connection:con_1:api_key").unwrap();
        assert_eq!(opened.expose_secret(), "rk_test_abc");
        assert!(matches!(
            key().open(&sealed, "connection:con_2:api_key"),
            Err(CryptoError::Tampered)
        ));
    }

    #[test]
    fn api_tokens_are_long_random_and_stored_only_as_digests() {
        let token = new_api_token();
        let text = token.expose_secret();
        assert!(text.starts_with("pst_") && text.len() == 36, "{text}");
        assert_ne!(text, new_api_token().expose_secret());
        let digest = api_token_digest(text);
        assert_eq!(digest.len(), 64);
        assert!(!digest.contains(&text[4..]));
    }

    #[test]
    fn sealing_twice_gives_different_ciphertexts() {
        assert_ne!(key().seal("same", "c"), key().seal("same", "c"));
    }

    #[test]
    fn a_value_sealed_by_another_key_names_that_key() {
        let other = MasterKey::from_bytes(&[9u8; 32]);
        let sealed = other.seal("x", "c");
        match key().open(&sealed, "c") {
            Err(CryptoError::UnknownKey { key_id }) => assert_eq!(key_id, other.id()),
            other => panic!("expected UnknownKey, got {other:?}"),
        }
    }

    #[test]
    fn a_flipped_byte_is_detected() {
        let sealed = key().seal("secret", "c");
        let mut bytes = sealed.into_bytes();
        let last = bytes.len() - 3;
        bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(bytes).unwrap();
        assert!(key().open(&tampered, "c").is_err());
    }

    #[test]
    fn master_keys_parse_from_hex_and_base64_and_refuse_other_lengths() {
        let hex_key = SecretString::from("07".repeat(32));
        let b64_key = SecretString::from(BASE64.encode([7u8; 32]));
        assert_eq!(MasterKey::parse(&hex_key).unwrap().id(), key().id());
        assert_eq!(MasterKey::parse(&b64_key).unwrap().id(), key().id());
        assert!(MasterKey::parse(&SecretString::from("abcd")).is_err());
        assert!(format!("{:?}", key()).contains("[redacted]"));
    }

    #[test]
    fn the_generated_key_file_is_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let first = MasterKey::load_or_create(None, dir.path()).unwrap();
        let second = MasterKey::load_or_create(None, dir.path()).unwrap();
        assert_eq!(first.id(), second.id());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.path().join(KEY_FILE_NAME))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
