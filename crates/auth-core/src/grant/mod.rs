//! The OAuth 2.0 grants, each as a pure request builder and response parser.
