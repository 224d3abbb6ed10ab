//! Bearer tokens: JWT, HS256 only, with the contract's claims.
//!
//! `alg: none`, other algorithms, a wrong key, an expired or not-yet-valid token and missing
//! claims are all 401; a valid token with the wrong role is 403 (see [`User::require`]).

use crate::error::ApiError;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// Service tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// Paid: unlimited searches (rate limit still applies).
    Premium,
    /// A few searches a day.
    Free,
}

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Searches.
    User,
    /// Searches and manages rules.
    Moderator,
    /// Pushes posts.
    Ingest,
}

impl Role {
    /// The contract's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Moderator => "moderator",
            Role::Ingest => "ingest",
        }
    }
}

/// The token's claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// User id.
    pub sub: String,
    /// Tier.
    pub tier: Tier,
    /// ISO 3166-1 alpha-2 country, uppercase, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Role.
    pub role: Role,
    /// Expiry, Unix seconds.
    pub exp: u64,
    /// Issued at, Unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<u64>,
    /// Not before, Unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
}

/// The authenticated caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The verified claims.
    pub claims: Claims,
}

impl User {
    /// 403 unless the token has one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.contains(&self.claims.role) {
            return Ok(());
        }
        let wanted: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
        Err(ApiError::Forbidden(format!(
            "this needs the {} role; the token has {}",
            wanted.join(" or "),
            self.claims.role.as_str()
        )))
    }

    /// The user's country for region-scoped hiding.
    pub fn country(&self) -> Option<&str> {
        self.claims.country.as_deref()
    }
}

/// Signing and verification keys for one secret.
#[derive(Clone)]
pub struct Keys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        f.write_str("Keys(..)")
    }
}

impl Keys {
    /// Keys for an HS256 secret.
    pub fn new(secret: &str) -> Keys {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.leeway = 5;
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "sub"]);
        Keys {
            encoding: EncodingKey::from_secret(secret.as_bytes()),
            decoding: DecodingKey::from_secret(secret.as_bytes()),
            validation,
        }
    }

    /// Signs claims.
    pub fn mint(&self, claims: &Claims) -> anyhow::Result<String> {
        Ok(jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            claims,
            &self.encoding,
        )?)
    }

    /// Verifies an `Authorization` header value.
    pub fn verify_header(&self, header: Option<&str>) -> Result<User, ApiError> {
        let Some(header) = header else {
            return Err(ApiError::Unauthorized(
                "missing Authorization: Bearer <token> header".into(),
            ));
        };
        let Some(token) = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
        else {
            return Err(ApiError::Unauthorized(
                "the Authorization header must be `Bearer <token>`".into(),
            ));
        };
        self.verify(token.trim())
    }

    /// Verifies a token.
    pub fn verify(&self, token: &str) -> Result<User, ApiError> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|e| {
                use jsonwebtoken::errors::ErrorKind;
                let why = match e.kind() {
                    ErrorKind::ExpiredSignature => "the token has expired",
                    ErrorKind::ImmatureSignature => "the token is not valid yet",
                    ErrorKind::InvalidSignature => "the token's signature is not valid",
                    ErrorKind::InvalidAlgorithm => "the token must be signed with HS256",
                    ErrorKind::MissingRequiredClaim(_) | ErrorKind::Json(_) => {
                        "the token lacks a required claim (sub, tier, role, exp) or has a bad one"
                    }
                    _ => "the token is malformed",
                };
                ApiError::Unauthorized(why.into())
            })?;
        let claims = data.claims;
        if let Some(c) = &claims.country
            && !(c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase()))
        {
            return Err(ApiError::Unauthorized(
                "the token's country must be an ISO 3166-1 alpha-2 code".into(),
            ));
        }
        Ok(User { claims })
    }
}

/// Claims for a new token valid for `ttl_s` seconds from now.
pub fn claims(sub: &str, tier: Tier, role: Role, country: Option<&str>, ttl_s: u64) -> Claims {
    let now = jsonwebtoken::get_current_timestamp();
    Claims {
        sub: sub.to_string(),
        tier,
        country: country.map(|c| c.to_ascii_uppercase()),
        role,
        exp: now + ttl_s,
        iat: Some(now),
        nbf: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    const SECRET: &str = "0123456789abcdef0123";

    fn token(claims: &Claims) -> String {
        Keys::new(SECRET).mint(claims).unwrap()
    }

    fn unauthorized(keys: &Keys, token: &str) -> String {
        match keys.verify(token) {
            Err(ApiError::Unauthorized(why)) => why,
            other => panic!("expected 401, got {other:?}"),
        }
    }

    #[test]
    fn a_good_token_round_trips() {
        let c = claims("u1", Tier::Free, Role::User, Some("kz"), 60);
        let user = Keys::new(SECRET).verify(&token(&c)).unwrap();
        assert_eq!(user.country(), Some("KZ"));
        assert!(user.require(&[Role::User, Role::Moderator]).is_ok());
        assert!(matches!(
            user.require(&[Role::Ingest]),
            Err(ApiError::Forbidden(_))
        ));
    }

    #[test]
    fn every_bad_token_is_refused() {
        let keys = Keys::new(SECRET);
        let good = claims("u1", Tier::Premium, Role::User, None, 60);
        assert!(
            unauthorized(&Keys::new("another-secret-of-16"), &token(&good)).contains("signature")
        );
        let expired = Claims {
            exp: 1000,
            ..good.clone()
        };
        assert!(unauthorized(&keys, &token(&expired)).contains("expired"));
        let future = Claims {
            nbf: Some(good.exp + 3600),
            ..good.clone()
        };
        assert!(unauthorized(&keys, &token(&future)).contains("not valid yet"));
        // alg: none, with the same claims.
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let none = format!(
            "{}.{}.",
            b64.encode(r#"{"alg":"none","typ":"JWT"}"#),
            b64.encode(serde_json::to_string(&good).unwrap())
        );
        unauthorized(&keys, &none);
        // HS512 with the right secret is still refused: only HS256 is accepted.
        let hs512 = jsonwebtoken::encode(
            &Header::new(Algorithm::HS512),
            &good,
            &EncodingKey::from_secret(SECRET.as_bytes()),
        )
        .unwrap();
        assert!(unauthorized(&keys, &hs512).contains("HS256"));
        // Missing role.
        let mut v = serde_json::to_value(&good).unwrap();
        v.as_object_mut().unwrap().remove("role");
        let no_role = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &v,
            &EncodingKey::from_secret(SECRET.as_bytes()),
        )
        .unwrap();
        assert!(unauthorized(&keys, &no_role).contains("claim"));
        unauthorized(&keys, "garbage");
        assert!(matches!(
            keys.verify_header(None),
            Err(ApiError::Unauthorized(_))
        ));
        assert!(matches!(
            keys.verify_header(Some("Basic abc")),
            Err(ApiError::Unauthorized(_))
        ));
    }
}
