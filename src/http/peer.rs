//! Drops connections whose peer stops taking what the server sends.
//!
//! A WebSocket session runs only when its connection asks for the next piece to write (see
//! [`super::slices`]): that is what gives it back-pressure. The other side of that is a browser
//! tab that stops reading. Its socket fills up, the connection never asks again, and the
//! session never runs again either. Its ping timer cannot close it, and the frames it has
//! already encoded (at worst a whole `initialState`) stay in memory for as long as the peer
//! keeps the TCP connection open. A suspended tab advertising a zero window keeps it open
//! forever.
//!
//! The kernel sees the stall where the server cannot: with `TCP_USER_TIMEOUT` set, a
//! connection whose data has stayed unacknowledged or untransmitted (zero window) for that long
//! is aborted. The pending write then fails, and actix-http drops the connection and with it
//! the session and everything it held. The timeout is the WebSocket idle timeout, so a peer
//! that acknowledges nothing is closed on the same schedule as one that answers no pings.

use std::any::Any;
use std::time::Duration;

use actix_web::rt::net::TcpStream;

/// Sets `TCP_USER_TIMEOUT` to `timeout` on a new connection, for `HttpServer::on_connect`.
///
/// Connections other than plain TCP are left alone; a failure is logged, never fatal: the
/// connection then just lacks the guard.
pub fn limit_unacknowledged(conn: &dyn Any, timeout: Duration) {
    let Some(tcp) = conn.downcast_ref::<TcpStream>() else {
        return;
    };
    if let Err(e) = socket2::SockRef::from(tcp).set_tcp_user_timeout(Some(timeout)) {
        tracing::debug!(error = %e, "could not set TCP_USER_TIMEOUT");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[actix_web::test]
    async fn sets_the_user_timeout_on_tcp_connections() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let client = TcpStream::connect(addr).await.unwrap();
        limit_unacknowledged(&client, Duration::from_secs(7));
        let set = socket2::SockRef::from(&client).tcp_user_timeout().unwrap();
        assert_eq!(set, Some(Duration::from_secs(7)));
        // Anything else is ignored.
        limit_unacknowledged(&42u8, Duration::from_secs(7));
    }
}
