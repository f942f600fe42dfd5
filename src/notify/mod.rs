//! Notification delivery (SPEC §10): channel configuration (webhooks, email), the service
//! templates, the SSRF guard, the webhook and SMTP senders, the delivery record with its retry
//! policy, and the planning of deliveries from alert events. Everything here is either pure or a
//! plain async function; the Notifier actor (`monitor::notifier`) wires it to the store and time.

pub mod channels;
pub mod email;
pub mod plan;
pub mod queue;
pub mod ssrf;
pub mod templates;
pub mod webhook;

pub use channels::{EmailConfig, TlsMode, Webhook, Webhooks};
pub use queue::{Channel, Delivery, DeliveryStatus, FailureClass};
pub use ssrf::SsrfGuard;
pub use templates::Service;
pub use webhook::WebhookClient;
