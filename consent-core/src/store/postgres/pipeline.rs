//! Round trips to the server, fewer of them: inside a transaction, statements whose
//! answer is not needed at once wait here and are sent, in order, with the next
//! statement that must be answered; the server gets them all in one round trip and
//! answers each in turn (tokio-postgres pipelines requests sent before their answers
//! are awaited).
//!
//! An append asks for everything the rules will read in one round trip (reads asked
//! for ahead, [`Pipeline::prefetch`]), and its writes (the event, its tree rows, the
//! materialized rows, the savepoint's release) travel with the next one: the next
//! append's reads, or the commit. A batched append thus costs one round trip, where it
//! cost one per statement.
//!
//! A savepoint (one operation of a batch) is sent only once something is written
//! under it, and not at all when the operation ends before anything of it was sent:
//! a `SAVEPOINT` still waiting when its `RELEASE` comes is dropped with it, and on
//! `ROLLBACK TO` the operation's waiting statements are dropped instead of sent
//! (with the rule below, a savepoint whose statements all travel together can never
//! be rolled back to, so it would only cost the server two statements per append).
//!
//! **A failure among the waiting statements ends the transaction.** Their caller has
//! returned already (an append of a batch may have been told it was recorded), so the
//! one safe outcome is that nothing of the transaction is committed: the connection
//! rolls it back and says so, as SQLite does after a full disk, and a batch must then
//! be rolled back by its owner. A durable append commits in the round trip that sends
//! its writes, so it learns of their failure before it returns.

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

use rusqlite::types::Value;
use tokio_postgres::{Client, Statement};

use super::value::Param;
use super::{pg_error, values_of};
use crate::error::{Error, Result};

/// Statements waiting beyond this many are sent without waiting for an answer to be
/// needed (a long copy or import inside one transaction).
const MAX_WAITING: usize = 256;

/// A statement that waits for the next round trip.
pub(super) enum Waiting {
    /// A write whose count is not needed.
    Write(Statement, Vec<Value>),
    /// Transaction control (`BEGIN`, `SAVEPOINT`, `RELEASE`, `ROLLBACK TO`); whether
    /// it can change what a read answers.
    Control { sql: String, invalidates: bool },
    /// A read asked for ahead, answered into [`Pipeline::answers`].
    Read {
        sql: String,
        stmt: Statement,
        params: Vec<Value>,
    },
}

/// The statement a round trip is made for.
pub(super) enum Pending {
    /// None: only what waits.
    Nothing,
    /// A query whose rows are wanted.
    Query(Statement, Vec<Value>),
    /// A statement whose count of changed rows is wanted.
    Execute(Statement, Vec<Value>),
    /// Statements without parameters, in the simple protocol (transaction control,
    /// schema text).
    Simple(String),
}

/// What the server answered to one statement.
pub(super) enum Answer {
    Rows(Vec<Vec<Value>>),
    Count(u64),
    Done,
}

impl Answer {
    /// The rows of a query (none for any other statement).
    pub(super) fn rows(self) -> Vec<Vec<Value>> {
        match self {
            Answer::Rows(rows) => rows,
            Answer::Count(_) | Answer::Done => Vec::new(),
        }
    }

    /// The count of changed rows (0 for a query or a simple statement).
    pub(super) fn count(&self) -> u64 {
        match self {
            Answer::Count(n) => *n,
            Answer::Rows(_) | Answer::Done => 0,
        }
    }
}

/// How a round trip ended.
pub(super) enum Outcome {
    /// Every waiting statement succeeded; the pending statement's own answer.
    Answered(Result<Answer>),
    /// A waiting statement failed: the server aborted the transaction.
    TransactionLost(Error),
}

/// The statements waiting for a round trip, and the reads answered ahead.
#[derive(Default)]
pub(super) struct Pipeline {
    waiting: Vec<Waiting>,
    /// Reads answered ahead, with nothing written since: (SQL, parameters, rows).
    answers: Vec<(String, Vec<Value>, Vec<Vec<Value>>)>,
    /// The open savepoint, if any, and how far it got.
    savepoint: Option<(String, Savepoint)>,
    /// Whether a statement failed since the savepoint on the server: the server
    /// ignores everything until `ROLLBACK TO` it (a `COMMIT` would roll back).
    pub(super) failed: bool,
}

/// How far an open savepoint got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Savepoint {
    /// Not sent, and nothing written under it yet.
    Held,
    /// Waiting at this index of [`Pipeline::waiting`], before what was written under it.
    Waiting(usize),
    /// On the server.
    Sent,
}

impl Pipeline {
    /// Everything waiting, to be sent now.
    pub(super) fn take(&mut self) -> Vec<Waiting> {
        if let Some((_, sp @ Savepoint::Waiting(_))) = &mut self.savepoint {
            *sp = Savepoint::Sent;
        }
        std::mem::take(&mut self.waiting)
    }

    /// Whether a read of `sql` with `params` waits (so a round trip will answer it).
    pub(super) fn awaits(&self, sql: &str, params: &[Value]) -> bool {
        self.waiting.iter().any(
            |w| matches!(w, Waiting::Read { sql: s, params: p, .. } if s == sql && p == params),
        )
    }

    /// The rows of a read answered ahead, taken (each answer serves once).
    pub(super) fn answered(&mut self, sql: &str, params: &[Value]) -> Option<Vec<Vec<Value>>> {
        let i = self
            .answers
            .iter()
            .position(|(s, p, _)| s == sql && p == params)?;
        Some(self.answers.swap_remove(i).2)
    }

    /// Asks for a read ahead.
    pub(super) fn prefetch(&mut self, sql: &str, stmt: Statement, params: Vec<Value>) {
        self.waiting.push(Waiting::Read {
            sql: sql.to_string(),
            stmt,
            params,
        });
    }

    /// Queues a write; whether so much waits that it should be sent now.
    pub(super) fn write(&mut self, stmt: Statement, params: Vec<Value>) -> bool {
        self.wrote();
        self.waiting.push(Waiting::Write(stmt, params));
        self.waiting.len() >= MAX_WAITING
    }

    /// Queues transaction control (savepoints as the module's documentation says).
    pub(super) fn control(&mut self, sql: &str) {
        let upper = sql.trim().to_ascii_uppercase();
        let words: Vec<&str> = upper.split_whitespace().collect();
        match words.as_slice() {
            ["SAVEPOINT", name] => {
                self.savepoint = Some((name.to_string(), Savepoint::Held));
                return;
            }
            ["RELEASE", name] | ["RELEASE", "SAVEPOINT", name] => match self.savepoint.take() {
                Some((open, Savepoint::Held)) if open == *name => return,
                Some((open, Savepoint::Waiting(at))) if open == *name => {
                    self.waiting.remove(at);
                    return;
                }
                _ => {}
            },
            ["ROLLBACK", "TO", name] | ["ROLLBACK", "TO", "SAVEPOINT", name] => {
                self.answers.clear();
                match self.savepoint {
                    Some((ref open, Savepoint::Held)) if open == name => return,
                    Some((ref open, Savepoint::Waiting(at))) if open == name => {
                        // Nothing of the operation was sent: it is not sent at all.
                        self.waiting.truncate(at);
                        self.savepoint = Some((name.to_string(), Savepoint::Held));
                        return;
                    }
                    _ => {}
                }
            }
            _ => {}
        }
        self.push_control(sql);
    }

    fn push_control(&mut self, sql: &str) {
        let invalidates = sql
            .trim_start()
            .to_ascii_uppercase()
            .starts_with("ROLLBACK");
        if invalidates {
            self.answers.clear();
        }
        self.waiting.push(Waiting::Control {
            sql: sql.to_string(),
            invalidates,
        });
    }

    /// Something is about to be written: no read answered ahead may be taken any
    /// more, and a held savepoint must go first.
    pub(super) fn wrote(&mut self) {
        self.answers.clear();
        if let Some((name, sp @ Savepoint::Held)) = &mut self.savepoint {
            *sp = Savepoint::Waiting(self.waiting.len());
            let sql = format!("SAVEPOINT {name}");
            self.waiting.push(Waiting::Control {
                sql,
                invalidates: false,
            });
        }
    }

    /// Forgets everything (the transaction is rolled back); whether the transaction
    /// had begun on the server (no `BEGIN` was still waiting).
    pub(super) fn discard(&mut self) -> bool {
        let begun = !self.waiting.iter().any(
            |w| matches!(w, Waiting::Control { sql, .. } if sql.trim_start().to_ascii_uppercase().starts_with("BEGIN")),
        );
        self.waiting.clear();
        self.answers.clear();
        self.savepoint = None;
        self.failed = false;
        begun
    }

    /// Whether the open savepoint is on the server (so a failed statement can be
    /// undone without losing the transaction).
    pub(super) fn savepoint_sent(&self) -> bool {
        matches!(self.savepoint, Some((_, Savepoint::Sent)))
    }

    /// Takes in the server's answers to a round trip: `answers` holds one per
    /// statement of `sent`, then the pending statement's (if there was one).
    pub(super) fn settle(&mut self, sent: Vec<Waiting>, answers: Vec<Result<Answer>>) -> Outcome {
        let mut answers = answers.into_iter();
        for w in sent {
            let answer = match answers.next() {
                Some(Ok(a)) => a,
                Some(Err(e)) => {
                    self.discard();
                    return Outcome::TransactionLost(e);
                }
                None => {
                    self.discard();
                    return Outcome::TransactionLost(Error::Storage(
                        "PostgreSQL: the connection ended before every statement was answered"
                            .into(),
                    ));
                }
            };
            match w {
                Waiting::Control {
                    invalidates: true, ..
                } => {
                    // A `ROLLBACK TO` that succeeded: the server takes statements again.
                    self.failed = false;
                    self.answers.clear();
                }
                Waiting::Write(..) => self.answers.clear(),
                Waiting::Control { .. } => {}
                Waiting::Read { sql, params, .. } => {
                    self.answers.push((sql, params, answer.rows()))
                }
            }
        }
        Outcome::Answered(answers.next().unwrap_or(Ok(Answer::Done)))
    }
}

/// A request's future, boxed so that requests of every kind go in one list.
type Request<'a> = Pin<Box<dyn Future<Output = Result<Answer>> + 'a>>;

/// Sends `waiting` and then `last` over one connection, each written to it before
/// any answer is awaited, and collects the answers in order.
pub(super) async fn send(
    client: &Client,
    waiting: &[Waiting],
    last: &Pending,
) -> Vec<Result<Answer>> {
    let mut requests: Vec<Request<'_>> = Vec::with_capacity(waiting.len() + 1);
    for w in waiting {
        requests.push(match w {
            Waiting::Write(stmt, params) => Box::pin(execute(client, stmt, params)),
            Waiting::Control { sql, .. } => Box::pin(simple(client, sql)),
            Waiting::Read { stmt, params, .. } => Box::pin(query(client, stmt, params)),
        });
    }
    match last {
        Pending::Nothing => {}
        Pending::Query(stmt, params) => requests.push(Box::pin(query(client, stmt, params))),
        Pending::Execute(stmt, params) => requests.push(Box::pin(execute(client, stmt, params))),
        Pending::Simple(sql) => requests.push(Box::pin(simple(client, sql))),
    }
    in_order(requests).await
}

/// Polls every request, first to last, until all are answered. The first poll of each
/// writes its request to the connection (tokio-postgres sends before it awaits), so
/// the server receives them in this order.
async fn in_order(mut requests: Vec<Request<'_>>) -> Vec<Result<Answer>> {
    let mut answers: Vec<Option<Result<Answer>>> = requests.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut waiting = false;
        for (request, answer) in requests.iter_mut().zip(answers.iter_mut()) {
            if answer.is_none() {
                match request.as_mut().poll(cx) {
                    Poll::Ready(a) => *answer = Some(a),
                    Poll::Pending => waiting = true,
                }
            }
        }
        if waiting {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    answers.into_iter().flatten().collect()
}

/// The parameters as PostgreSQL takes them.
fn params_of(values: &[Value]) -> Vec<Param<'_>> {
    values.iter().map(|v| Param(v.into())).collect()
}

async fn execute(client: &Client, stmt: &Statement, values: &[Value]) -> Result<Answer> {
    let params = params_of(values);
    let refs: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> =
        params.iter().map(|p| p as _).collect();
    client
        .execute(stmt, &refs)
        .await
        .map(Answer::Count)
        .map_err(pg_error)
}

async fn query(client: &Client, stmt: &Statement, values: &[Value]) -> Result<Answer> {
    let params = params_of(values);
    let refs: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> =
        params.iter().map(|p| p as _).collect();
    let rows = client.query(stmt, &refs).await.map_err(pg_error)?;
    rows.iter()
        .map(values_of)
        .collect::<Result<_>>()
        .map(Answer::Rows)
}

async fn simple(client: &Client, sql: &str) -> Result<Answer> {
    client
        .batch_execute(sql)
        .await
        .map(|()| Answer::Done)
        .map_err(pg_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The transaction control that waits, as SQL.
    fn controls(p: &Pipeline) -> Vec<String> {
        p.waiting
            .iter()
            .map(|w| match w {
                Waiting::Control { sql, .. } => sql.clone(),
                Waiting::Write(..) => "write".into(),
                Waiting::Read { sql, .. } => sql.clone(),
            })
            .collect()
    }

    #[test]
    fn a_savepoint_is_sent_only_when_something_of_it_is() {
        let mut p = Pipeline::default();
        // Nothing written: neither SAVEPOINT nor RELEASE goes out.
        p.control("SAVEPOINT op");
        p.control("RELEASE op");
        assert!(controls(&p).is_empty());
        // Written, and released before anything was sent: both dropped.
        p.control("SAVEPOINT op");
        p.wrote();
        assert_eq!(controls(&p), ["SAVEPOINT OP"]);
        p.control("RELEASE op");
        assert!(controls(&p).is_empty());
        // Written and sent: the RELEASE goes out too.
        p.control("SAVEPOINT op");
        p.wrote();
        assert_eq!(p.take().len(), 1);
        assert!(p.savepoint_sent());
        p.control("RELEASE op");
        assert_eq!(controls(&p), ["RELEASE op"]);
        assert!(!p.savepoint_sent());
    }

    #[test]
    fn rolling_back_to_a_waiting_savepoint_drops_what_it_covered() {
        let mut p = Pipeline::default();
        p.control("BEGIN");
        p.control("SAVEPOINT op");
        p.wrote();
        p.control("ROLLBACK TO op");
        assert_eq!(
            controls(&p),
            ["BEGIN"],
            "the operation's statements were not sent"
        );
        p.control("RELEASE op");
        assert_eq!(controls(&p), ["BEGIN"]);
        // Once sent, a rollback to it is sent and undoes a failed statement.
        p.control("SAVEPOINT op");
        p.wrote();
        p.take();
        p.failed = true;
        p.control("ROLLBACK TO op");
        p.control("RELEASE op");
        assert_eq!(controls(&p), ["ROLLBACK TO op", "RELEASE op"]);
        let sent = p.take();
        let answers = vec![Ok(Answer::Done), Ok(Answer::Done)];
        assert!(matches!(
            p.settle(sent, answers),
            Outcome::Answered(Ok(Answer::Done))
        ));
        assert!(!p.failed, "the server takes statements again");
    }

    #[test]
    fn a_failure_among_the_waiting_loses_the_transaction() {
        let mut p = Pipeline::default();
        p.control("BEGIN");
        p.control("SAVEPOINT op");
        p.wrote();
        let sent = p.take();
        let answers = vec![
            Ok(Answer::Done),
            Err(Error::Storage("disk full".into())),
            Ok(Answer::Rows(Vec::new())),
        ];
        match p.settle(sent, answers) {
            Outcome::TransactionLost(e) => assert!(e.to_string().contains("disk full")),
            Outcome::Answered(_) => panic!("a failed waiting statement was not reported"),
        }
        assert!(controls(&p).is_empty() && p.savepoint.is_none());
    }
}
