//! The shell: a supervised component that talks to a person on the console.
//!
//! It reads lines through its `console` route, runs each as a command
//! followed by pipeline stages (`ps | where restarts > 0 | sort-by mem`),
//! and prints the result. Commands that list things return typed tables
//! ([`abide_datatable::Table`]) from the services they ask (`system` from
//! init, `log` from the log service, `kv`, `pci`, `unix`), so the stages
//! filter and sort values, not text. `sh` hands the console to a Linux
//! shell of the Unix personality until it ends. What it can reach is
//! exactly its routes: `snapshot` and `sync` need its `checkpoint` device
//! (`uses checkpoint from init`); `persist` reads the checkpoint engine's
//! public status.
#![no_std]
#![no_main]

extern crate alloc;

mod commands;
mod line;

use alloc::string::String;

use abide_abi::syscall::Handle;
use abide_rt::component::Component;
use abide_rt::ipc::Client;
use abide_rt::println;

abide_rt::async_entry!(main);

/// A log request not answered within this is sent again.
const LOG_RESEND_NS: u64 = 1_000_000_000;

/// The shell's routes.
pub struct Shell {
    pub console: Client,
    pub system: Option<Client>,
    pub log: Option<Client>,
    pub pci: Option<commands::lspci::Pci>,
    pub kv: Option<Client>,
    pub counter: Option<Client>,
    /// The Unix personality, for `sh` and `unix`.
    pub unix: Option<Client>,
    /// The hardware resource with `WRITE`, for `snapshot` and `sync`.
    pub checkpoint: Option<Handle>,
}

async fn main() -> i32 {
    let component = match Component::get() {
        Ok(component) => component,
        Err(error) => {
            println!("shell: not started by init: {error}");
            return 1;
        }
    };
    // The console is the service `--console NAME` names (`console` if it
    // is not given): a second shell may run on another console driver.
    let service = console_service(component.args());
    let Some(console) = component.uses(service) else {
        println!("shell: no route to a console ({service})");
        return 1;
    };
    let shell = Shell {
        console: Client::new(console),
        system: component.uses("system").map(Client::new),
        // Log requests are idempotent: ask again if the service died
        // holding one.
        log: component
            .uses("log")
            .map(|log| Client::new(log).resending_after(LOG_RESEND_NS)),
        pci: component.uses("pci").map(commands::lspci::Pci::new),
        kv: component.uses("kv").map(Client::new),
        counter: component.uses("counter").map(Client::new),
        unix: component.uses("unix").map(Client::new),
        checkpoint: component.device("checkpoint"),
    };
    let names = match &shell.system {
        Some(system) => system
            .call(
                abide_interfaces::System::names::encode,
                abide_interfaces::System::names::decode_reply,
            )
            .await
            .unwrap_or_default(),
        None => alloc::vec::Vec::new(),
    };
    let mut reader = line::Reader::new(names);
    shell
        .write("Abide shell. Type 'help' for commands.\n")
        .await;
    loop {
        let Some(line) = reader.read_line(&shell).await else {
            return 0;
        };
        let output = commands::run(&shell, line.trim()).await;
        if !output.is_empty() {
            let mut text = output;
            if !text.ends_with('\n') {
                text.push('\n');
            }
            shell.write(&text).await;
        }
    }
}

/// The console service `--console NAME` names, or `console`.
fn console_service(args: &[String]) -> &str {
    args.windows(2)
        .find(|pair| pair[0] == "--console")
        .map_or("console", |pair| pair[1].as_str())
}

impl Shell {
    /// Writes `text` on the console.
    pub async fn write(&self, text: &str) {
        self.write_bytes(text.as_bytes().to_vec()).await;
    }

    /// Writes `bytes` on the console.
    pub async fn write_bytes(&self, bytes: alloc::vec::Vec<u8>) {
        let _ = self
            .console
            .call(
                |txid| abide_interfaces::Console::write::encode(txid, bytes),
                abide_interfaces::Console::write::decode_reply,
            )
            .await;
    }

    /// Waits for console input.
    pub async fn read(&self) -> Option<alloc::vec::Vec<u8>> {
        self.console
            .call(
                |txid| abide_interfaces::Console::read::encode(txid, 256),
                abide_interfaces::Console::read::decode_reply,
            )
            .await
            .ok()
    }
}

/// An error line.
pub fn error(message: impl Into<String>) -> String {
    let mut text: String = "error: ".into();
    text.push_str(&message.into());
    text
}
