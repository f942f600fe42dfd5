//! HTTPS for the platform simulators: a self-signed certificate for `localhost`/`127.0.0.1`
//! ([`SimCert`], with its SHA-256 fingerprint for pinning), and [`HttpsServer`], an actix-web
//! server on a loopback port with its own thread and actix system.
//!
//! Running on its own thread makes a simulator usable from any context — `pulse demo` (an actix
//! system), `#[tokio::test]`s, benches — without sharing a runtime with the code under test, so a
//! hung simulator handler can never stall the client being tested. Dropping the server stops it
//! (without waiting for in-flight requests) and joins the thread.

use std::io;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::thread::JoinHandle;

use actix_web::dev::ServerHandle;
use actix_web::{web, App, HttpServer};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use sha2::{Digest, Sha256};

/// A self-signed certificate and key for loopback servers.
pub struct SimCert {
    cert: CertificateDer<'static>,
    key: PrivatePkcs8KeyDer<'static>,
    fingerprint: String,
}

impl std::fmt::Debug for SimCert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimCert")
            .field("fingerprint", &self.fingerprint)
            .finish_non_exhaustive()
    }
}

impl SimCert {
    /// A fresh certificate valid for `localhost` and `127.0.0.1`.
    pub fn generate() -> io::Result<Self> {
        let certified = rcgen::generate_simple_self_signed(vec![
            "localhost".to_owned(),
            "127.0.0.1".to_owned(),
        ])
        .map_err(io::Error::other)?;
        let cert = certified.cert.der().clone();
        let fingerprint = hex::encode(Sha256::digest(cert.as_ref()));
        Ok(SimCert {
            cert,
            key: PrivatePkcs8KeyDer::from(certified.key_pair.serialize_der()),
            fingerprint,
        })
    }

    /// SHA-256 of the certificate's DER: 64 lower-case hex digits (what a client pins).
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// The certificate in DER form.
    pub fn der(&self) -> &[u8] {
        self.cert.as_ref()
    }

    /// A rustls server configuration presenting this certificate (ring provider, TLS 1.2/1.3).
    pub fn server_config(&self) -> io::Result<rustls::ServerConfig> {
        rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(io::Error::other)?
        .with_no_client_auth()
        .with_single_cert(
            vec![self.cert.clone()],
            PrivateKeyDer::Pkcs8(self.key.clone_key()),
        )
        .map_err(io::Error::other)
    }
}

/// A running HTTPS simulator server; dropping it stops the server.
pub struct HttpsServer {
    addr: SocketAddr,
    fingerprint: String,
    handle: ServerHandle,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for HttpsServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpsServer")
            .field("addr", &self.addr)
            .field("fingerprint", &self.fingerprint)
            .finish_non_exhaustive()
    }
}

impl HttpsServer {
    /// Serves the routes that `configure` installs on `127.0.0.1:<free port>` over TLS with
    /// `cert`, on a thread named `name` running `workers` actix workers.
    pub fn start<F>(name: &str, cert: &SimCert, workers: usize, configure: F) -> io::Result<Self>
    where
        F: Fn(&mut web::ServiceConfig) + Send + Clone + 'static,
    {
        let listener = TcpListener::bind(("127.0.0.1", 0))?;
        Self::start_on(listener, name, cert, workers, configure)
    }

    /// Like [`HttpsServer::start`] on a listener the caller bound, e.g. to the address of a
    /// server it stopped, so a simulated appliance can restart on the same port.
    pub fn start_on<F>(
        listener: TcpListener,
        name: &str,
        cert: &SimCert,
        workers: usize,
        configure: F,
    ) -> io::Result<Self>
    where
        F: Fn(&mut web::ServiceConfig) + Send + Clone + 'static,
    {
        let addr = listener.local_addr()?;
        let tls = cert.server_config()?;
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                let system = actix_web::rt::System::new();
                system.block_on(async move {
                    let server = HttpServer::new(move || {
                        let configure = configure.clone();
                        App::new().configure(move |cfg| configure(cfg))
                    })
                    .workers(workers.max(1))
                    .disable_signals()
                    .shutdown_timeout(1)
                    .listen_rustls_0_23(listener, tls);
                    let server = match server {
                        Ok(server) => server.run(),
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                            return;
                        }
                    };
                    let _ = ready_tx.send(Ok(server.handle()));
                    let _ = server.await;
                });
            })?;
        let handle = ready_rx
            .recv()
            .map_err(|_| io::Error::other("simulator thread ended before starting"))??;
        Ok(HttpsServer {
            addr,
            fingerprint: cert.fingerprint().to_owned(),
            handle,
            thread: Some(thread),
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `https://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// The fingerprint of the certificate it presents.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }
}

impl Drop for HttpsServer {
    fn drop(&mut self) {
        // `stop` sends the command at once; the returned future only waits for completion.
        drop(self.handle.stop(false));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
