//! Switchable failures, so that clients can be tested against what real servers do on a
//! bad day.

use std::collections::HashMap;

/// A failure of `POST /graphql`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum GraphqlFault {
    /// `200` with `"data": null` and an `errors` array whose entry has a message, path,
    /// locations and `extensions.code`.
    Errors,
    /// `200` with both `data` and `errors`: the first nullable field of the operation is
    /// answered `null` with an error at its path (GraphQL spec §6.4.4, "Handling Field
    /// Errors"). When the operation has no nullable field, the data is kept whole and the
    /// error has no path.
    PartialData,
    /// `401` with `WWW-Authenticate: Bearer error="invalid_token"`, whatever the token.
    Unauthorized,
    /// `502` with an HTML page, as a reverse proxy answers when the service is down.
    BadGatewayHtml,
    /// `400` with an `errors` array and no `data`, as servers answer a request they
    /// refuse before execution (GraphQL over HTTP §6.4.2), whatever the `Accept` header.
    RequestError,
    /// `429` with `Retry-After: 1` and an `errors` array.
    TooManyRequests,
}

/// An OAuth endpoint that can be made to fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OAuthEndpoint {
    /// Both discovery documents.
    Metadata,
    /// Dynamic client registration.
    Registration,
    /// The authorization endpoint (before any validation).
    Authorization,
    /// The token endpoint.
    Token,
    /// The revocation endpoint.
    Revocation,
}

/// A failure of an OAuth endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EndpointFault {
    /// `502` with an HTML page.
    BadGatewayHtml,
    /// `503` with the RFC 6749 §5.2 body `{"error": "temporarily_unavailable"}`.
    TemporarilyUnavailable,
}

/// How many requests a fault hits before it disarms itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FaultTimes {
    /// The next request only.
    Once,
    /// The next `n` requests.
    Times(u32),
    /// Every request until cleared.
    Always,
}

/// A deliberately wrong authorization response, as an attacker or a broken server would
/// send, for the client's negative tests.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum CallbackTampering {
    /// Responses are correct.
    #[default]
    None,
    /// `state` is replaced by another value.
    WrongState,
    /// `state` is left out.
    MissingState,
    /// `iss` carries this value instead of the issuer (RFC 9207 mix-up).
    WrongIss(String),
}

#[derive(Debug, Clone, Copy)]
struct Armed<F> {
    fault: F,
    /// `None`: until cleared.
    remaining: Option<u32>,
}

impl<F: Copy> Armed<F> {
    fn new(fault: F, times: FaultTimes) -> Option<Self> {
        let remaining = match times {
            FaultTimes::Once => Some(1),
            FaultTimes::Times(0) => return None,
            FaultTimes::Times(n) => Some(n),
            FaultTimes::Always => None,
        };
        Some(Self { fault, remaining })
    }

    /// The fault for this request, and whether it stays armed afterwards.
    fn fire(&mut self) -> (F, bool) {
        match &mut self.remaining {
            None => (self.fault, true),
            Some(n) => {
                *n = n.saturating_sub(1);
                (self.fault, *n > 0)
            }
        }
    }
}

/// The armed faults of one server.
#[derive(Debug, Default)]
pub(crate) struct ArmedFaults {
    graphql: Option<Armed<GraphqlFault>>,
    endpoints: HashMap<OAuthEndpoint, Armed<EndpointFault>>,
}

impl ArmedFaults {
    pub(crate) fn arm_graphql(&mut self, fault: GraphqlFault, times: FaultTimes) {
        self.graphql = Armed::new(fault, times);
    }

    pub(crate) fn arm_endpoint(
        &mut self,
        endpoint: OAuthEndpoint,
        fault: EndpointFault,
        times: FaultTimes,
    ) {
        match Armed::new(fault, times) {
            Some(armed) => self.endpoints.insert(endpoint, armed),
            None => self.endpoints.remove(&endpoint),
        };
    }

    pub(crate) fn clear(&mut self) {
        self.graphql = None;
        self.endpoints.clear();
    }

    pub(crate) fn take_graphql(&mut self) -> Option<GraphqlFault> {
        let armed = self.graphql.as_mut()?;
        let (fault, keep) = armed.fire();
        if !keep {
            self.graphql = None;
        }
        Some(fault)
    }

    pub(crate) fn take_endpoint(&mut self, endpoint: OAuthEndpoint) -> Option<EndpointFault> {
        let armed = self.endpoints.get_mut(&endpoint)?;
        let (fault, keep) = armed.fire();
        if !keep {
            self.endpoints.remove(&endpoint);
        }
        Some(fault)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_fire_as_many_times_as_armed() {
        let cases = [
            (FaultTimes::Once, 1),
            (FaultTimes::Times(3), 3),
            (FaultTimes::Times(0), 0),
            (FaultTimes::Always, 10),
        ];
        for (times, expected) in cases {
            let mut faults = ArmedFaults::default();
            faults.arm_graphql(GraphqlFault::Errors, times);
            faults.arm_endpoint(OAuthEndpoint::Token, EndpointFault::BadGatewayHtml, times);
            let graphql = (0..10).filter_map(|_| faults.take_graphql()).count();
            let token = (0..10)
                .filter_map(|_| faults.take_endpoint(OAuthEndpoint::Token))
                .count();
            assert_eq!((graphql, token), (expected, expected), "{times:?}");
            assert_eq!(faults.take_endpoint(OAuthEndpoint::Registration), None);
        }
    }

    #[test]
    fn clear_disarms_everything() {
        let mut faults = ArmedFaults::default();
        faults.arm_graphql(GraphqlFault::Unauthorized, FaultTimes::Always);
        faults.arm_endpoint(
            OAuthEndpoint::Metadata,
            EndpointFault::TemporarilyUnavailable,
            FaultTimes::Always,
        );
        faults.clear();
        assert_eq!(faults.take_graphql(), None);
        assert_eq!(faults.take_endpoint(OAuthEndpoint::Metadata), None);
    }
}
