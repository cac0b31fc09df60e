//! The GraphQL client.
