//! The TCK's value notation: a value tree and its parser.
//!
//! Owns: reading the cell syntax of expected-result and parameter tables — `null`,
//! booleans, integers, floats (`1.0`, `-0.0`, `1e-3`, `NaN`, `Inf`, `-Inf`), strings in
//! single quotes (escapes `\'` and `\\` only), lists, maps, nodes `(:A {k: 1})`,
//! relationships `[:T {k: 1}]` and paths `<(:A)-[:T]->(:B)>` — into a [`TckValue`], and
//! printing a value back in the same notation for reports. Promises: nodes and
//! relationships carry no identity (labels are a set), as the TCK intends. Needs: nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// A node as the TCK writes it: labels (a set) and properties, no identity.
#[derive(Clone, Debug, PartialEq)]
pub struct TckNode {
    pub labels: BTreeSet<String>,
    pub properties: BTreeMap<String, TckValue>,
}

/// A relationship as the TCK writes it: type and properties, no endpoints.
#[derive(Clone, Debug, PartialEq)]
pub struct TckRelationship {
    pub rel_type: String,
    pub properties: BTreeMap<String, TckValue>,
}

/// One hop of a path: the relationship, whether it points along the walk, the next node.
#[derive(Clone, Debug, PartialEq)]
pub struct Hop {
    pub relationship: TckRelationship,
    pub forward: bool,
    pub node: TckNode,
}

/// A value in the TCK's notation.
#[derive(Clone, Debug, PartialEq)]
pub enum TckValue {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    String(String),
    List(Vec<TckValue>),
    Map(BTreeMap<String, TckValue>),
    Node(TckNode),
    Relationship(TckRelationship),
    Path { start: TckNode, hops: Vec<Hop> },
}

/// Parses one table cell.
pub fn parse_value(text: &str) -> Result<TckValue, String> {
    let mut parser = ValueParser { text, pos: 0 };
    let value = parser.value()?;
    parser.skip_ws();
    if parser.pos != text.len() {
        return Err(parser.error("unexpected trailing text"));
    }
    Ok(value)
}

struct ValueParser<'a> {
    text: &'a str,
    pos: usize,
}

impl ValueParser<'_> {
    fn error(&self, message: &str) -> String {
        format!("{message} at byte {} of TCK value `{}`", self.pos, self.text)
    }

    fn rest(&self) -> &str {
        &self.text[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn skip_ws(&mut self) {
        let rest = self.rest();
        self.pos += rest.len() - rest.trim_start().len();
    }

    /// Consumes `token` (after whitespace) if it comes next.
    fn eat(&mut self, token: &str) -> bool {
        self.skip_ws();
        let found = self.rest().starts_with(token);
        if found {
            self.pos += token.len();
        }
        found
    }

    fn expect(&mut self, token: &str) -> Result<(), String> {
        if self.eat(token) {
            Ok(())
        } else {
            Err(self.error(&format!("expected `{token}`")))
        }
    }

    fn value(&mut self) -> Result<TckValue, String> {
        self.skip_ws();
        match self.peek() {
            Some('\'') => self.string().map(TckValue::String),
            Some('[') => self.list_or_relationship(),
            Some('{') => self.map().map(TckValue::Map),
            Some('(') => self.node().map(TckValue::Node),
            Some('<') => self.path(),
            Some(c) if c == '-' || c == '.' || c.is_ascii_digit() => self.number(),
            Some(_) => self.word(),
            None => Err(self.error("expected a value")),
        }
    }

    fn word(&mut self) -> Result<TckValue, String> {
        let words = [
            ("null", TckValue::Null),
            ("true", TckValue::Bool(true)),
            ("false", TckValue::Bool(false)),
            ("NaN", TckValue::Float(f64::NAN)),
            ("Inf", TckValue::Float(f64::INFINITY)),
            ("Infinity", TckValue::Float(f64::INFINITY)),
        ];
        let name = self.identifier();
        let found = words.into_iter().find(|(word, _)| *word == name);
        found
            .map(|(_, value)| value)
            .ok_or_else(|| self.error(&format!("unknown word `{name}`")))
    }

    fn identifier(&mut self) -> String {
        let rest = self.rest();
        let len = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        let name = rest[..len].to_string();
        self.pos += len;
        name
    }

    /// A map key, label or type: a plain identifier or a backquoted name.
    fn name(&mut self) -> Result<String, String> {
        self.skip_ws();
        if !self.eat("`") {
            let name = self.identifier();
            return if name.is_empty() {
                Err(self.error("expected a name"))
            } else {
                Ok(name)
            };
        }
        let end = self.rest().find('`').ok_or_else(|| self.error("unterminated `name`"))?;
        let name = self.rest()[..end].to_string();
        self.pos += end + 1;
        Ok(name)
    }

    fn number(&mut self) -> Result<TckValue, String> {
        let start = self.pos;
        let negative = self.eat("-");
        if self.rest().starts_with("Inf") {
            self.identifier();
            return Ok(TckValue::Float(if negative {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            }));
        }
        let rest = self.rest();
        let len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '-')))
            .unwrap_or(rest.len());
        // A `-` or `+` belongs to the number only right after an exponent marker.
        let len = (1..len)
            .find(|&i| matches!(rest.as_bytes()[i], b'+' | b'-') && !matches!(rest.as_bytes()[i - 1], b'e' | b'E'))
            .unwrap_or(len);
        self.pos += len;
        let literal = &self.text[start..self.pos];
        let is_float = literal.contains(['.', 'e', 'E']);
        let parsed = if is_float {
            literal.parse::<f64>().map(TckValue::Float).map_err(|e| e.to_string())
        } else {
            literal.parse::<i64>().map(TckValue::Int).map_err(|e| e.to_string())
        };
        parsed.map_err(|e| self.error(&format!("bad number `{literal}` ({e})")))
    }

    fn string(&mut self) -> Result<String, String> {
        self.expect("'")?;
        let mut out = String::new();
        let mut chars = self.rest().char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\'' => {
                    self.pos += i + 1;
                    return Ok(out);
                }
                '\\' => match chars.next() {
                    Some((_, escaped @ ('\'' | '\\'))) => out.push(escaped),
                    Some((_, other)) => {
                        out.push('\\');
                        out.push(other);
                    }
                    None => out.push('\\'),
                },
                _ => out.push(c),
            }
        }
        Err(self.error("unterminated string"))
    }

    fn list_or_relationship(&mut self) -> Result<TckValue, String> {
        let start = self.pos;
        self.expect("[")?;
        if self.eat(":") {
            self.pos = start;
            return self.relationship().map(TckValue::Relationship);
        }
        let mut items = Vec::new();
        if self.eat("]") {
            return Ok(TckValue::List(items));
        }
        loop {
            items.push(self.value()?);
            if self.eat("]") {
                return Ok(TckValue::List(items));
            }
            self.expect(",")?;
        }
    }

    fn map(&mut self) -> Result<BTreeMap<String, TckValue>, String> {
        self.expect("{")?;
        let mut map = BTreeMap::new();
        if self.eat("}") {
            return Ok(map);
        }
        loop {
            let key = self.name()?;
            self.expect(":")?;
            map.insert(key, self.value()?);
            if self.eat("}") {
                return Ok(map);
            }
            self.expect(",")?;
        }
    }

    fn properties(&mut self) -> Result<BTreeMap<String, TckValue>, String> {
        self.skip_ws();
        if self.peek() == Some('{') {
            self.map()
        } else {
            Ok(BTreeMap::new())
        }
    }

    fn node(&mut self) -> Result<TckNode, String> {
        self.expect("(")?;
        let mut labels = BTreeSet::new();
        while self.eat(":") {
            labels.insert(self.name()?);
        }
        let properties = self.properties()?;
        self.expect(")")?;
        Ok(TckNode { labels, properties })
    }

    fn relationship(&mut self) -> Result<TckRelationship, String> {
        self.expect("[")?;
        self.expect(":")?;
        let rel_type = self.name()?;
        let properties = self.properties()?;
        self.expect("]")?;
        Ok(TckRelationship { rel_type, properties })
    }

    fn path(&mut self) -> Result<TckValue, String> {
        self.expect("<")?;
        let start = self.node()?;
        let mut hops = Vec::new();
        while !self.eat(">") {
            let backward = self.eat("<-");
            if !backward {
                self.expect("-")?;
            }
            let relationship = self.relationship()?;
            let forward = if backward {
                self.expect("-")?;
                false
            } else {
                self.expect("->")?;
                true
            };
            hops.push(Hop {
                relationship,
                forward,
                node: self.node()?,
            });
        }
        Ok(TckValue::Path { start, hops })
    }
}

fn write_float(f: &mut fmt::Formatter<'_>, x: f64) -> fmt::Result {
    if x.is_nan() {
        f.write_str("NaN")
    } else if x.is_infinite() {
        f.write_str(if x > 0.0 { "Inf" } else { "-Inf" })
    } else {
        write!(f, "{x:?}")
    }
}

fn write_properties(f: &mut fmt::Formatter<'_>, properties: &BTreeMap<String, TckValue>) -> fmt::Result {
    if !properties.is_empty() {
        write!(f, " ")?;
        write_map(f, properties)?;
    }
    Ok(())
}

fn write_map(f: &mut fmt::Formatter<'_>, map: &BTreeMap<String, TckValue>) -> fmt::Result {
    f.write_str("{")?;
    for (i, (key, value)) in map.iter().enumerate() {
        let sep = if i == 0 { "" } else { ", " };
        write!(f, "{sep}{key}: {value}")?;
    }
    f.write_str("}")
}

impl fmt::Display for TckNode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(")?;
        for label in &self.labels {
            write!(f, ":{label}")?;
        }
        if self.labels.is_empty() {
            if !self.properties.is_empty() {
                write_map(f, &self.properties)?;
            }
        } else {
            write_properties(f, &self.properties)?;
        }
        f.write_str(")")
    }
}

impl fmt::Display for TckRelationship {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[:{}", self.rel_type)?;
        write_properties(f, &self.properties)?;
        f.write_str("]")
    }
}

/// Prints the value in the TCK notation (maps with sorted keys).
impl fmt::Display for TckValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TckValue::Null => f.write_str("null"),
            TckValue::Bool(b) => write!(f, "{b}"),
            TckValue::Int(i) => write!(f, "{i}"),
            TckValue::Float(x) => write_float(f, *x),
            TckValue::String(s) => write!(f, "'{}'", s.replace('\\', "\\\\").replace('\'', "\\'")),
            TckValue::List(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    write!(f, "{}{item}", if i == 0 { "" } else { ", " })?;
                }
                f.write_str("]")
            }
            TckValue::Map(map) => write_map(f, map),
            TckValue::Node(node) => write!(f, "{node}"),
            TckValue::Relationship(rel) => write!(f, "{rel}"),
            TckValue::Path { start, hops } => {
                write!(f, "<{start}")?;
                for hop in hops {
                    let (left, right) = if hop.forward { ("-", "->") } else { ("<-", "-") };
                    write!(f, "{left}{}{right}{}", hop.relationship, hop.node)?;
                }
                f.write_str(">")
            }
        }
    }
}

#[cfg(test)]
mod tests;
