//! The server loop: reads framed JSON-RPC messages from stdin, keeps the documents, answers each request on stdout.

use crate::lsp::documents::Documents;
use crate::lsp::{completion, definition, diagnostics, formatting, framing, hover};
use lsp_server::{ErrorCode, Message, Notification, Request, Response};
use lsp_types::notification::{
    DidChangeTextDocument, DidCloseTextDocument, DidOpenTextDocument,
    Notification as NotificationKind, PublishDiagnostics,
};
use lsp_types::request::{
    Completion, Formatting, GotoDefinition, HoverRequest, Initialize, Request as RequestKind,
    Shutdown,
};
use lsp_types::{
    CompletionOptions, InitializeResult, OneOf, PositionEncodingKind, PublishDiagnosticsParams,
    ServerCapabilities, ServerInfo, TextDocumentSyncCapability, TextDocumentSyncKind,
    TextDocumentSyncOptions, Uri,
};
use serde_json::Value;
use std::io::{BufRead, Write};

/// Serves one client on stdin and stdout until it sends `exit` or closes
/// stdin; the exit code: 0 after `shutdown` then `exit`, else 1 (as the
/// protocol asks of an `exit` without `shutdown`, and of a client gone).
pub fn serve() -> i32 {
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    serve_on(&mut stdin.lock(), &mut stdout.lock())
}

/// [`serve`] on any pair of streams.
pub fn serve_on(input: &mut impl BufRead, output: &mut impl Write) -> i32 {
    let mut server = Server::default();
    loop {
        let message = match framing::read_message(input) {
            Ok(Some(message)) => message,
            Ok(None) => return server.ending_code(),
            // A message that is not JSON-RPC was read whole: skip it, go on.
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                eprintln!("procscript lsp: skipped a message that is not JSON-RPC: {e}");
                continue;
            }
            Err(e) => {
                eprintln!("procscript lsp: cannot read the client's message: {e}");
                return 1;
            }
        };
        let answers = match message {
            Message::Request(request) => vec![server.request(request).into()],
            Message::Notification(n) if n.method == "exit" => return server.ending_code(),
            Message::Notification(n) => server.notification(n),
            Message::Response(_) => Vec::new(),
        };
        for answer in answers {
            if let Err(e) = answer.write(output) {
                eprintln!("procscript lsp: cannot write to the client: {e}");
                return 1;
            }
        }
    }
}

#[derive(Default)]
struct Server {
    documents: Documents,
    initialized: bool,
    shut_down: bool,
}

impl Server {
    fn ending_code(&self) -> i32 {
        if self.shut_down {
            0
        } else {
            1
        }
    }

    fn request(&mut self, request: Request) -> Response {
        let id = request.id.clone();
        if !self.initialized && request.method != Initialize::METHOD {
            let message = "the server was not initialized".to_string();
            return Response::new_err(id, ErrorCode::ServerNotInitialized as i32, message);
        }
        if self.shut_down {
            let message = "the server was shut down".to_string();
            return Response::new_err(id, ErrorCode::InvalidRequest as i32, message);
        }
        match self.answer(&request) {
            Ok(result) => Response::new_ok(id, result),
            Err((code, message)) => Response::new_err(id, code as i32, message),
        }
    }

    /// The result of a request, or the error code and message to answer with.
    fn answer(&mut self, request: &Request) -> Result<Value, (ErrorCode, String)> {
        let result = match request.method.as_str() {
            Initialize::METHOD => {
                self.initialized = true;
                serde_json::to_value(initialize_result())
            }
            Shutdown::METHOD => {
                self.shut_down = true;
                Ok(Value::Null)
            }
            GotoDefinition::METHOD => {
                let params: <GotoDefinition as RequestKind>::Params = params(request)?;
                let at = params.text_document_position_params;
                let uri = at.text_document.uri;
                let text = self.text(&uri)?;
                serde_json::to_value(definition::definition(&uri, text, at.position))
            }
            HoverRequest::METHOD => {
                let params: <HoverRequest as RequestKind>::Params = params(request)?;
                let at = params.text_document_position_params;
                let uri = at.text_document.uri;
                let text = self.text(&uri)?;
                serde_json::to_value(hover::hover(&uri, text, at.position))
            }
            Completion::METHOD => {
                let params: <Completion as RequestKind>::Params = params(request)?;
                let at = params.text_document_position;
                let uri = at.text_document.uri;
                let text = self.text(&uri)?;
                serde_json::to_value(completion::complete(&uri, text, at.position))
            }
            Formatting::METHOD => {
                let params: <Formatting as RequestKind>::Params = params(request)?;
                let text = self.text(&params.text_document.uri)?;
                serde_json::to_value(formatting::format(text))
            }
            other => {
                let message = format!("procscript lsp does not answer `{other}`");
                return Err((ErrorCode::MethodNotFound, message));
            }
        };
        result.map_err(|e| (ErrorCode::InternalError, e.to_string()))
    }

    fn text(&self, uri: &Uri) -> Result<&str, (ErrorCode, String)> {
        self.documents.text(uri).ok_or_else(|| {
            let message = format!("{} is not open", uri.as_str());
            (ErrorCode::InvalidParams, message)
        })
    }

    /// Takes a notification in; the notifications to send back (diagnostics).
    fn notification(&mut self, notification: Notification) -> Vec<Message> {
        match notification.method.as_str() {
            DidOpenTextDocument::METHOD => {
                let Ok(params) = notification_params::<DidOpenTextDocument>(notification) else {
                    return Vec::new();
                };
                let document = params.text_document;
                let published = publish(&document.uri, &document.text, Some(document.version));
                self.documents.open(document.uri, document.text);
                vec![published]
            }
            DidChangeTextDocument::METHOD => {
                let Ok(params) = notification_params::<DidChangeTextDocument>(notification) else {
                    return Vec::new();
                };
                let document = params.text_document;
                let changes = params.content_changes;
                let Some(text) = self.documents.change(&document.uri, changes) else {
                    return Vec::new();
                };
                vec![publish(&document.uri, text, Some(document.version))]
            }
            DidCloseTextDocument::METHOD => {
                let Ok(params) = notification_params::<DidCloseTextDocument>(notification) else {
                    return Vec::new();
                };
                let uri = params.text_document.uri;
                self.documents.close(&uri);
                // A closed document's errors leave the editor's problem list.
                vec![diagnostics_message(uri, Vec::new(), None)]
            }
            _ => Vec::new(),
        }
    }
}

/// The diagnostics of a document's text, as a notification.
fn publish(uri: &Uri, text: &str, version: Option<i32>) -> Message {
    diagnostics_message(uri.clone(), diagnostics::check(uri, text), version)
}

fn diagnostics_message(
    uri: Uri,
    diagnostics: Vec<lsp_types::Diagnostic>,
    version: Option<i32>,
) -> Message {
    let params = PublishDiagnosticsParams {
        uri,
        diagnostics,
        version,
    };
    Notification::new(PublishDiagnostics::METHOD.to_string(), params).into()
}

fn params<P: serde::de::DeserializeOwned>(request: &Request) -> Result<P, (ErrorCode, String)> {
    serde_json::from_value(request.params.clone())
        .map_err(|e| (ErrorCode::InvalidParams, format!("bad params: {e}")))
}

fn notification_params<N: NotificationKind>(
    notification: Notification,
) -> Result<N::Params, serde_json::Error> {
    serde_json::from_value(notification.params)
}

/// What the server can do, and its name and version.
fn initialize_result() -> InitializeResult {
    let sync = TextDocumentSyncOptions {
        open_close: Some(true),
        change: Some(TextDocumentSyncKind::INCREMENTAL),
        ..TextDocumentSyncOptions::default()
    };
    InitializeResult {
        capabilities: ServerCapabilities {
            position_encoding: Some(PositionEncodingKind::UTF16),
            text_document_sync: Some(TextDocumentSyncCapability::Options(sync)),
            definition_provider: Some(OneOf::Left(true)),
            hover_provider: Some(lsp_types::HoverProviderCapability::Simple(true)),
            document_formatting_provider: Some(OneOf::Left(true)),
            completion_provider: Some(CompletionOptions {
                trigger_characters: Some(vec![".".to_string()]),
                ..CompletionOptions::default()
            }),
            ..ServerCapabilities::default()
        },
        server_info: Some(ServerInfo {
            name: "procscript".to_string(),
            version: Some(env!("CARGO_PKG_VERSION").to_string()),
        }),
    }
}
