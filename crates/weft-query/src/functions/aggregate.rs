//! Aggregate functions: `count`, `sum`, `avg`, `min`, `max`, `collect`, `stDev`,
//! `stDevP`, `percentileCont` and `percentileDisc`, each optionally `DISTINCT`, plus
//! `count_star` for the executor's `count(*)`.
//!
//! The executor creates one [`Aggregator`] per group and aggregate expression, feeds it the
//! evaluated arguments of every row, then calls `finish` once. Nulls are skipped by every
//! aggregate (except `count_star`, which counts rows); `DISTINCT` keeps the first of each
//! set of equivalent values (`1` and `1.0` are one value).
//!
//! Results on no input: `count` 0, `sum` 0, `collect` `[]`, `stDev`/`stDevP` 0.0, the
//! others null. `sum` keeps integers integral (overflow is an `ArithmeticError`), becomes a
//! float once a float is seen, and also sums durations; `avg` of numbers is a float.

use crate::exec::row::FastSet;

use weft_common::temporal::Duration;

use super::temporal::duration;
use super::{canonical, out_of_range};
use crate::error::{ErrorKind, QueryError, Result};
use crate::value::{GroupKey, QValue};

/// Folds the rows of one group into one value.
pub trait Aggregator: Send {
    /// Adds one row's evaluated arguments.
    fn update(&mut self, args: &[QValue]) -> Result<()>;
    /// Adds `rows` rows with the same arguments.
    fn update_rows(&mut self, args: &[QValue], rows: u64) -> Result<()> {
        (0..rows).try_for_each(|_| self.update(args))
    }
    /// The aggregate over all rows seen; called once, after the last `update` or
    /// `update_rows`.
    fn finish(&mut self) -> Result<QValue>;
}

/// A fresh aggregator for `name` (any letter case), or `None` if it is not an aggregate.
/// `"count_star"` counts rows, whatever their arguments.
pub fn new_aggregator(name: &str, distinct: bool) -> Option<Box<dyn Aggregator>> {
    let inner: Box<dyn Aggregator> = match canonical(name).as_ref() {
        "count_star" => return Some(Box::new(CountStar(0))),
        "count" => Box::new(Count(0)),
        "sum" => Box::new(Sum::default()),
        "avg" => Box::new(Avg::default()),
        "min" => Box::new(Extreme {
            best: None,
            keep_greater: false,
        }),
        "max" => Box::new(Extreme {
            best: None,
            keep_greater: true,
        }),
        "collect" => Box::new(Collect(Vec::new())),
        "stdev" => Box::new(StDev {
            sample: true,
            ..StDev::default()
        }),
        "stdevp" => Box::new(StDev {
            sample: false,
            ..StDev::default()
        }),
        "percentilecont" => Box::new(Percentile {
            continuous: true,
            ..Percentile::default()
        }),
        "percentiledisc" => Box::new(Percentile {
            continuous: false,
            ..Percentile::default()
        }),
        _ => return None,
    };
    Some(if distinct {
        Box::new(Distinct {
            seen: FastSet::default(),
            nodes: FastSet::default(),
            inner,
        })
    } else {
        inner
    })
}

fn first(args: &[QValue]) -> &QValue {
    args.first().unwrap_or(&QValue::Null)
}

fn wrong_type(func: &str, expected: &str, got: &QValue) -> QueryError {
    let message = format!("{func}() can only aggregate {expected}, got {}", got.type_name());
    QueryError::runtime(ErrorKind::TypeError, "InvalidArgumentType", message)
}

/// Forwards only the first occurrence of each (non-null) first argument.
struct Distinct {
    seen: FastSet<GroupKey>,
    /// Nodes by id (a node equals only the same node): `count(DISTINCT n)` over a large
    /// expansion keeps eight bytes per node and hashes no key.
    nodes: FastSet<u64>,
    inner: Box<dyn Aggregator>,
}

impl Aggregator for Distinct {
    fn update(&mut self, args: &[QValue]) -> Result<()> {
        let value = first(args);
        let first_time = match value {
            QValue::Null => false,
            QValue::Node(gid) => self.nodes.insert(gid.0),
            _ => self.seen.insert(GroupKey::from(value.clone())),
        };
        if !first_time {
            return Ok(());
        }
        self.inner.update(args)
    }

    fn finish(&mut self) -> Result<QValue> {
        self.inner.finish()
    }
}

struct CountStar(i64);

impl Aggregator for CountStar {
    fn update(&mut self, _args: &[QValue]) -> Result<()> {
        self.0 = self.0.saturating_add(1);
        Ok(())
    }

    fn update_rows(&mut self, _args: &[QValue], rows: u64) -> Result<()> {
        self.0 = self.0.saturating_add(i64::try_from(rows).unwrap_or(i64::MAX));
        Ok(())
    }

    fn finish(&mut self) -> Result<QValue> {
        Ok(QValue::Int(self.0))
    }
}

struct Count(i64);

impl Aggregator for Count {
    fn update(&mut self, args: &[QValue]) -> Result<()> {
        self.0 = self.0.saturating_add(i64::from(!first(args).is_null()));
        Ok(())
    }

    fn finish(&mut self) -> Result<QValue> {
        Ok(QValue::Int(self.0))
    }
}

/// A running total of numbers or of durations.
#[derive(Default)]
enum Total {
    #[default]
    Empty,
    Int(i64),
    Float(f64),
    Duration(Duration),
}

impl Total {
    fn add(&mut self, func: &str, value: &QValue) -> Result<()> {
        *self = match (&*self, value) {
            (Total::Empty, QValue::Int(i)) => Total::Int(*i),
            (Total::Empty, QValue::Float(f)) => Total::Float(*f),
            (Total::Empty, QValue::Duration(d)) => Total::Duration(*d),
            (Total::Int(a), QValue::Int(b)) => Total::Int(a.checked_add(*b).ok_or_else(|| {
                QueryError::runtime(
                    ErrorKind::ArithmeticError,
                    "IntegerOverflow",
                    format!("{func}() overflowed INTEGER"),
                )
            })?),
            (Total::Int(a), QValue::Float(b)) => Total::Float(*a as f64 + b),
            (Total::Float(a), QValue::Int(b)) => Total::Float(a + *b as f64),
            (Total::Float(a), QValue::Float(b)) => Total::Float(a + b),
            (Total::Duration(a), QValue::Duration(b)) => Total::Duration(duration::add(a, b)?),
            (_, other) => return Err(wrong_type(func, "numbers or durations (not mixed)", other)),
        };
        Ok(())
    }
}

#[derive(Default)]
struct Sum(Total);

impl Aggregator for Sum {
    fn update(&mut self, args: &[QValue]) -> Result<()> {
        match first(args) {
            QValue::Null => Ok(()),
            value => self.0.add("sum", value),
        }
    }

    fn finish(&mut self) -> Result<QValue> {
        Ok(match self.0 {
            Total::Empty => QValue::Int(0),
            Total::Int(i) => QValue::Int(i),
            Total::Float(f) => QValue::Float(f),
            Total::Duration(d) => QValue::Duration(d),
        })
    }
}

/// Averages numbers (integers summed exactly in `i128`) or durations.
#[derive(Default)]
struct Avg {
    count: i64,
    ints: i128,
    floats: f64,
    durations: Total,
}

impl Aggregator for Avg {
    fn update(&mut self, args: &[QValue]) -> Result<()> {
        match first(args) {
            QValue::Null => return Ok(()),
            QValue::Int(i) if matches!(self.durations, Total::Empty) => self.ints += i128::from(*i),
            QValue::Float(f) if matches!(self.durations, Total::Empty) => self.floats += f,
            value @ QValue::Duration(_) if self.count == 0 || !matches!(self.durations, Total::Empty) => {
                self.durations.add("avg", value)?
            }
            other => return Err(wrong_type("avg", "numbers or durations (not mixed)", other)),
        }
        self.count += 1;
        Ok(())
    }

    fn finish(&mut self) -> Result<QValue> {
        if self.count == 0 {
            return Ok(QValue::Null);
        }
        if let Total::Duration(total) = self.durations {
            return Ok(QValue::Duration(duration::divide(&total, &QValue::Int(self.count))?));
        }
        Ok(QValue::Float((self.ints as f64 + self.floats) / self.count as f64))
    }
}

/// `min` or `max` by the global sort order (TCK `Aggregation2`: mixed types compare by
/// type rank, so lists are below strings and numbers above both).
struct Extreme {
    best: Option<QValue>,
    keep_greater: bool,
}

impl Aggregator for Extreme {
    fn update(&mut self, args: &[QValue]) -> Result<()> {
        let value = first(args);
        if value.is_null() {
            return Ok(());
        }
        let better = self.best.as_ref().is_none_or(|best| {
            let ordering = value.order_cmp(best);
            if self.keep_greater {
                ordering.is_gt()
            } else {
                ordering.is_lt()
            }
        });
        if better {
            self.best = Some(value.clone());
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<QValue> {
        Ok(self.best.take().unwrap_or(QValue::Null))
    }
}

struct Collect(Vec<QValue>);

impl Aggregator for Collect {
    fn update(&mut self, args: &[QValue]) -> Result<()> {
        let value = first(args);
        if !value.is_null() {
            self.0.push(value.clone());
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<QValue> {
        Ok(QValue::List(std::mem::take(&mut self.0)))
    }
}

/// A number as a float, or a type error naming `func`.
fn number(func: &str, value: &QValue) -> Result<f64> {
    match value {
        QValue::Int(i) => Ok(*i as f64),
        QValue::Float(f) => Ok(*f),
        other => Err(wrong_type(func, "numbers", other)),
    }
}

/// Standard deviation by Welford's online algorithm.
#[derive(Default)]
struct StDev {
    sample: bool,
    count: u64,
    mean: f64,
    squares: f64,
}

impl Aggregator for StDev {
    fn update(&mut self, args: &[QValue]) -> Result<()> {
        let value = first(args);
        if value.is_null() {
            return Ok(());
        }
        let x = number(if self.sample { "stDev" } else { "stDevP" }, value)?;
        self.count += 1;
        let delta = x - self.mean;
        self.mean += delta / self.count as f64;
        self.squares += delta * (x - self.mean);
        Ok(())
    }

    fn finish(&mut self) -> Result<QValue> {
        let divisor = if self.sample {
            self.count.saturating_sub(1)
        } else {
            self.count
        };
        Ok(QValue::Float(if divisor == 0 {
            0.0
        } else {
            (self.squares / divisor as f64).sqrt()
        }))
    }
}

/// `percentileCont` (interpolated, a float) or `percentileDisc` (an input value).
#[derive(Default)]
struct Percentile {
    continuous: bool,
    values: Vec<QValue>,
    percentile: Option<f64>,
}

impl Percentile {
    fn func(&self) -> &'static str {
        if self.continuous {
            "percentileCont"
        } else {
            "percentileDisc"
        }
    }
}

impl Aggregator for Percentile {
    fn update(&mut self, args: &[QValue]) -> Result<()> {
        let value = first(args);
        if value.is_null() {
            return Ok(());
        }
        number(self.func(), value)?;
        let percentile = match args.get(1).unwrap_or(&QValue::Null) {
            QValue::Int(i) => *i as f64,
            QValue::Float(f) => *f,
            other => return Err(wrong_type(self.func(), "with a NUMBER percentile", other)),
        };
        if !(0.0..=1.0).contains(&percentile) {
            return Err(out_of_range(
                self.func(),
                format!("the percentile must be between 0.0 and 1.0, got {percentile}"),
            ));
        }
        self.percentile.get_or_insert(percentile);
        self.values.push(value.clone());
        Ok(())
    }

    fn finish(&mut self) -> Result<QValue> {
        let (Some(p), false) = (self.percentile, self.values.is_empty()) else {
            return Ok(QValue::Null);
        };
        let mut values = std::mem::take(&mut self.values);
        values.sort_by(QValue::order_cmp);
        let last = values.len() - 1;
        if !self.continuous {
            // The smallest value with at least a fraction p of the values at or below it.
            let index = ((p * values.len() as f64).ceil() as usize).saturating_sub(1).min(last);
            return Ok(values.swap_remove(index));
        }
        let position = p * last as f64;
        let (below, above) = (
            (position.floor() as usize).min(last),
            (position.ceil() as usize).min(last),
        );
        let at = |i: usize| number("percentileCont", values.get(i).unwrap_or(&QValue::Null));
        let (low, high) = (at(below)?, at(above)?);
        Ok(QValue::Float(if below == above {
            low
        } else {
            low + (high - low) * (position - below as f64)
        }))
    }
}
