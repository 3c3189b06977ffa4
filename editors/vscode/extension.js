// The VS Code side of procscript: starts `procscript lsp` for .proc files and
// talks to it over stdio (diagnostics as you type, go to definition, hover,
// completion, formatting). The grammar in syntaxes/ colours the text without it.
"use strict";

const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

function activate(context) {
  // The command to run: `procscript` from PATH unless the setting names another.
  const command = vscode.workspace
    .getConfiguration("procscript")
    .get("server.path", "procscript");
  const server = { command, args: ["lsp"], transport: TransportKind.stdio };
  client = new LanguageClient(
    "procscript",
    "procscript language server",
    { run: server, debug: server },
    {
      documentSelector: [
        { scheme: "file", language: "procscript" },
        { scheme: "untitled", language: "procscript" },
      ],
    },
  );
  context.subscriptions.push(client);
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
