//! The syntax: text to a tree of statements, knowing nothing of what the
//! statements mean.
//!
//! A statement is one or more words ended by a line break or `;`, optionally
//! followed by a block, `{`, statements, `}`. A word is bare (a run of
//! characters other than white space and `{ } ; " #`) or quoted (`"..."`, on
//! one line, with the escapes `\\ \" \n \t \r`). `#` starts a comment that
//! runs to the end of the line.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::{ConfigError, Pos, MAX_DEPTH};

/// A word of a statement.
#[derive(Debug)]
pub(crate) struct Word {
    pub text: String,
    /// Written in quotes (then it is never a keyword).
    pub quoted: bool,
    pub at: Pos,
}

/// A statement: its words and its block, if it has one.
#[derive(Debug)]
pub(crate) struct Node {
    /// Never empty.
    pub words: Vec<Word>,
    pub block: Option<Block>,
}

/// `{ ... }`.
#[derive(Debug)]
pub(crate) struct Block {
    /// Where the `{` is.
    pub open: Pos,
    pub nodes: Vec<Node>,
}

/// Whether `c` can be part of a bare word.
pub(crate) fn is_bare(c: char) -> bool {
    !(c.is_whitespace() || matches!(c, '{' | '}' | ';' | '"' | '#'))
}

#[derive(Debug)]
enum Kind {
    Word {
        text: String,
        quoted: bool,
    },
    Open,
    Close,
    /// A line break or `;`.
    End,
    Eof,
}

#[derive(Debug)]
struct Token {
    kind: Kind,
    at: Pos,
}

struct Lexer<'a> {
    chars: core::iter::Peekable<core::str::Chars<'a>>,
    line: u32,
    column: u32,
}

impl Lexer<'_> {
    fn pos(&self) -> Pos {
        Pos::new(self.line, self.column)
    }

    fn peek(&mut self) -> Option<char> {
        self.chars.peek().copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.chars.next()?;
        if c == '\n' {
            self.line = self.line.saturating_add(1);
            self.column = 1;
        } else {
            self.column = self.column.saturating_add(1);
        }
        Some(c)
    }

    /// A quoted word; the opening `"` is consumed.
    fn quoted(&mut self, start: Pos, errors: &mut Vec<ConfigError>) -> String {
        let mut text = String::new();
        loop {
            let at = self.pos();
            match self.peek() {
                None | Some('\n') => {
                    errors.push(ConfigError::new(
                        start,
                        "this string is never closed (a `\"` is missing before the end of the line)",
                    ));
                    return text;
                }
                Some('"') => {
                    self.bump();
                    return text;
                }
                Some('\\') => {
                    self.bump();
                    match self.peek() {
                        Some(e @ ('\\' | '"' | 'n' | 't' | 'r')) => {
                            self.bump();
                            text.push(match e {
                                'n' => '\n',
                                't' => '\t',
                                'r' => '\r',
                                other => other,
                            });
                        }
                        Some(other) if other != '\n' => {
                            self.bump();
                            errors.push(ConfigError::new(
                                at,
                                format!(
                                    "unknown escape `\\{other}` (expected \\\\, \\\", \\n, \\t or \\r)"
                                ),
                            ));
                        }
                        _ => {} // the end of the line: reported above
                    }
                }
                Some(c) => {
                    self.bump();
                    text.push(c);
                }
            }
        }
    }

    fn next(&mut self, errors: &mut Vec<ConfigError>) -> Token {
        loop {
            let at = self.pos();
            let Some(c) = self.peek() else {
                return Token {
                    kind: Kind::Eof,
                    at,
                };
            };
            let kind = match c {
                '\n' | ';' => {
                    self.bump();
                    Kind::End
                }
                '#' => {
                    while self.peek().is_some_and(|c| c != '\n') {
                        self.bump();
                    }
                    continue;
                }
                c if c.is_whitespace() => {
                    self.bump();
                    continue;
                }
                '{' => {
                    self.bump();
                    Kind::Open
                }
                '}' => {
                    self.bump();
                    Kind::Close
                }
                '"' => {
                    self.bump();
                    Kind::Word {
                        text: self.quoted(at, errors),
                        quoted: true,
                    }
                }
                _ => {
                    let mut text = String::new();
                    while let Some(c) = self.peek().filter(|&c| is_bare(c)) {
                        self.bump();
                        text.push(c);
                    }
                    Kind::Word {
                        text,
                        quoted: false,
                    }
                }
            };
            return Token { kind, at };
        }
    }
}

fn tokens(text: &str, errors: &mut Vec<ConfigError>) -> Vec<Token> {
    let mut lexer = Lexer {
        chars: text.chars().peekable(),
        line: 1,
        column: 1,
    };
    let mut out = Vec::new();
    loop {
        let token = lexer.next(errors);
        let eof = matches!(token.kind, Kind::Eof);
        out.push(token);
        if eof {
            return out;
        }
    }
}

struct Parser {
    tokens: Vec<Token>,
    next: usize,
}

impl Parser {
    fn peek(&self) -> &Token {
        // The last token is always Eof and is never consumed.
        &self.tokens[self.next.min(self.tokens.len() - 1)]
    }

    fn take(&mut self) -> Token {
        let last = self.tokens.len() - 1;
        if self.next >= last {
            return Token {
                kind: Kind::Eof,
                at: self.tokens[last].at,
            };
        }
        let token = core::mem::replace(
            &mut self.tokens[self.next],
            Token {
                kind: Kind::End,
                at: Pos::default(),
            },
        );
        self.next += 1;
        token
    }

    /// Statements until the `}` that closes the block opened at `open`
    /// (consumed), or until the end of the text at the top level.
    fn nodes(
        &mut self,
        open: Option<Pos>,
        depth: usize,
        errors: &mut Vec<ConfigError>,
    ) -> Vec<Node> {
        let mut nodes = Vec::new();
        loop {
            let token = self.take();
            match token.kind {
                Kind::End => {}
                Kind::Eof => {
                    if let Some(open) = open {
                        errors.push(ConfigError::new(
                            open,
                            "this `{` is never closed (a `}` is missing)",
                        ));
                    }
                    return nodes;
                }
                Kind::Close => {
                    if open.is_some() {
                        return nodes;
                    }
                    errors.push(ConfigError::new(
                        token.at,
                        "this `}` closes nothing (there is no open `{`)",
                    ));
                }
                Kind::Open => {
                    errors.push(ConfigError::new(
                        token.at,
                        "a block needs a statement before its `{`, such as `group NAME {`",
                    ));
                    self.block(token.at, depth, errors);
                }
                Kind::Word { text, quoted } => {
                    let mut words = alloc::vec![Word {
                        text,
                        quoted,
                        at: token.at,
                    }];
                    while let Kind::Word { .. } = self.peek().kind {
                        let token = self.take();
                        if let Kind::Word { text, quoted } = token.kind {
                            words.push(Word {
                                text,
                                quoted,
                                at: token.at,
                            });
                        }
                    }
                    let mut block = None;
                    if let Kind::Open = self.peek().kind {
                        let open = self.take().at;
                        let Some(nodes) = self.block(open, depth, errors) else {
                            // Too deep: reported, and the statement dropped.
                            continue;
                        };
                        block = Some(Block { open, nodes });
                        // A statement with a block ends at its `}`: what
                        // follows on the line must be nothing, `;` or `}`.
                        let after = self.peek();
                        if let Kind::Word { .. } | Kind::Open = after.kind {
                            errors.push(ConfigError::new(
                                after.at,
                                "expected the end of the line after `}`",
                            ));
                            while !matches!(self.peek().kind, Kind::End | Kind::Close | Kind::Eof) {
                                self.take();
                            }
                        }
                    }
                    nodes.push(Node { words, block });
                }
            }
        }
    }

    /// The contents of a block whose `{` (at `open`) was just taken; `None`
    /// if it is nested too deep (its contents are skipped).
    fn block(
        &mut self,
        open: Pos,
        depth: usize,
        errors: &mut Vec<ConfigError>,
    ) -> Option<Vec<Node>> {
        // Groups nest MAX_DEPTH deep (the interpreter says so at the group
        // too deep); a component's block is one more level, and one more
        // leaves room for that message. Beyond, the syntax stops.
        if depth < MAX_DEPTH + 2 {
            return Some(self.nodes(Some(open), depth + 1, errors));
        }
        errors.push(ConfigError::new(
            open,
            format!("blocks are nested too deep (groups nest at most {MAX_DEPTH} levels)"),
        ));
        // Skip to the matching `}` without recursing.
        let mut level = 1usize;
        loop {
            let token = self.take();
            match token.kind {
                Kind::Open => level += 1,
                Kind::Close => {
                    level -= 1;
                    if level == 0 {
                        return None;
                    }
                }
                Kind::Eof => {
                    errors.push(ConfigError::new(
                        open,
                        "this `{` is never closed (a `}` is missing)",
                    ));
                    return None;
                }
                _ => {}
            }
        }
    }
}

/// The statements of `text`; syntax errors go to `errors`.
pub(crate) fn parse(text: &str, errors: &mut Vec<ConfigError>) -> Vec<Node> {
    let mut parser = Parser {
        tokens: tokens(text, errors),
        next: 0,
    };
    parser.nodes(None, 0, errors)
}
