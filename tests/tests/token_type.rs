//! A token whose `token_type` is not `Bearer` (here `DPoP`, which needs a proof of
//! possession with every request) is refused by both API clients with a typed error
//! naming the type, and nothing is sent (RFC 6749 §7.1).

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use async_trait::async_trait;
use auth_core::{
    AccessToken, CachingProvider, Error as AuthError, HttpTransport, Token, TokenProvider,
    TokenSource, TokenType,
};
use sandbox::Sandbox;
use sandbox::attendium::AttendiumConfig;
use sandbox::communico::CommunicoConfig;

/// A token endpoint that issues DPoP-bound tokens.
struct DpopTokens;

#[async_trait]
impl TokenSource for DpopTokens {
    async fn fetch(&self, _current: Option<&Token>) -> Result<Token, AuthError> {
        let mut token = Token::bearer(AccessToken::new("SECRET-dpop-bound"), None);
        token.token_type = TokenType::parse("DPoP");
        Ok(token)
    }
}

fn dpop_provider() -> Arc<dyn TokenProvider> {
    Arc::new(CachingProvider::new(DpopTokens))
}

fn transport() -> Arc<dyn HttpTransport> {
    Arc::new(http_reqwest::ReqwestTransport::new().unwrap())
}

fn assert_refused(err: &AuthError) {
    assert!(
        matches!(err, AuthError::UnsupportedTokenType { token_type } if token_type == "DPoP"),
        "{err:?}"
    );
    let text = format!("{err} {err:?}");
    assert!(text.contains("DPoP") && !text.contains("SECRET"), "{text}");
}

#[tokio::test]
async fn communico_refuses_a_dpop_token_without_sending_it() {
    let sandbox = Sandbox::communico_only(CommunicoConfig::default())
        .await
        .unwrap();
    let api = sandbox.communico().unwrap();
    let client = communico::Client::builder()
        .base_url(api.base_url())
        .shared_transport(transport())
        .token_provider(dpop_provider())
        .build()
        .unwrap();
    match client.event_types().await {
        Err(communico::Error::Auth(err)) => assert_refused(&err),
        other => panic!("expected the token type to be refused, got {other:?}"),
    }
    assert_eq!(api.requests("/v3/attend/types"), 0, "nothing was sent");
}

#[tokio::test]
async fn attendium_graphql_refuses_a_dpop_token_without_sending_it() {
    let sandbox = Sandbox::builder()
        .attendium(AttendiumConfig::new())
        .start()
        .await
        .unwrap();
    let server = sandbox.attendium().unwrap();
    let client = attendium::GraphQlClient::new(
        url::Url::parse(&server.graphql_endpoint()).unwrap(),
        transport(),
        dpop_provider(),
    )
    .unwrap();
    match client
        .query::<attendium::generated::Me>(attendium::generated::me::Variables)
        .await
    {
        Err(attendium::Error::Auth(err)) => assert_refused(&err),
        other => panic!("expected the token type to be refused, got {other:?}"),
    }
    assert_eq!(
        server.counters().requests_to("/graphql"),
        0,
        "nothing was sent"
    );
}
