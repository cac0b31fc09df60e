//! What a person's browser does with an authorization URL, for a client under test (or a
//! CLI pointed at the sandbox) to finish a login without a person.

use auth_core::HttpTransport;
use bytes::Bytes;
use http::header::LOCATION;
use url::Url;

use super::AttendiumError;

/// GETs the authorization URL and follows the one redirect it answers with, to the
/// client's loopback redirect URI, as a browser would after the person approved. It
/// follows nothing further: the loopback listener's answer is the end of the login.
///
/// With [`Approval::AutoApprove`](super::Approval::AutoApprove) the sandbox redirects at
/// once; [`Approval::AutoDeny`](super::Approval::AutoDeny) and tampering redirect too
/// (with an error or wrong parameters), which the client under test must reject.
///
/// # Errors
///
/// [`AttendiumError::Browsing`] when a request fails, [`AttendiumError::NotRedirected`]
/// when the server answers without a redirect (an unknown client, a bad redirect URI, a
/// server that wants a person), [`AttendiumError::BadRedirect`] when its `Location` is
/// not a URL.
pub async fn follow_authorization(
    transport: &dyn HttpTransport,
    url: &Url,
) -> Result<(), AttendiumError> {
    let get = |url: &Url| {
        http::Request::get(url.as_str())
            .body(Bytes::new())
            .map_err(|_| AttendiumError::BadRedirect)
    };
    let response = transport.send(get(url)?).await?;
    let location = response
        .headers()
        .get(LOCATION)
        .and_then(|l| l.to_str().ok())
        .filter(|_| response.status().is_redirection())
        .ok_or(AttendiumError::NotRedirected {
            status: response.status(),
        })?;
    let callback = url
        .join(location)
        .map_err(|_| AttendiumError::BadRedirect)?;
    transport.send(get(&callback)?).await?;
    Ok(())
}
