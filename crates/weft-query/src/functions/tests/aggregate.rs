//! Aggregate functions (TCK `Aggregation1`-`Aggregation8`).

use super::*;
use crate::functions::new_aggregator;

/// Feeds one-argument rows to a fresh aggregator, rendering the result.
fn aggregate(name: &str, distinct: bool, rows: Vec<QValue>) -> String {
    aggregate_rows(name, distinct, rows.into_iter().map(|row| vec![row]).collect())
}

fn aggregate_rows(name: &str, distinct: bool, rows: Vec<Vec<QValue>>) -> String {
    let Some(mut aggregator) = new_aggregator(name, distinct) else {
        return format!("no aggregate {name}");
    };
    for row in rows {
        if let Err(e) = aggregator.update(&row) {
            return show(Err(e));
        }
    }
    show(aggregator.finish())
}

#[test]
fn count_skips_nulls_and_counts_distinct() {
    // Act / check: TCK Aggregation1 [1], Aggregation8 [1]-[2].
    assert_eq!(aggregate("count", false, vec![i(33), NULL, i(42)]), "2");
    assert_eq!(aggregate("COUNT", true, vec![i(1), f(1.0), i(2), NULL]), "2");
    assert_eq!(aggregate("count", true, vec![NULL]), "0");
    assert_eq!(aggregate("count_star", false, vec![NULL, NULL]), "2");
    assert!(new_aggregator("size", false).is_none());
}

#[test]
fn sum_keeps_integers_and_widens_to_float() {
    // Act / check: TCK Aggregation3.
    assert_eq!(aggregate("sum", false, vec![i(33), NULL, i(42)]), "75");
    assert_eq!(
        aggregate("sum", false, (1_000_000..1_003_000).map(i).collect()),
        "3004498500"
    );
    assert_eq!(aggregate("sum", false, vec![i(1), f(0.5)]), "1.5");
    assert_eq!(aggregate("sum", false, vec![]), "0");
    assert_eq!(aggregate("sum", true, vec![i(2), i(2), f(2.0)]), "2");
    assert_eq!(
        aggregate("sum", false, vec![i(i64::MAX), i(1)]),
        "error: ArithmeticError/IntegerOverflow"
    );
    assert_eq!(
        aggregate("sum", false, vec![i(1), s("a")]),
        "error: TypeError/InvalidArgumentType"
    );
}

#[test]
fn sum_and_avg_of_durations() {
    // Set up
    let day = eval("duration", vec![s("P1D")]);
    let hours = eval("duration", vec![s("PT12H")]);
    // Act / check
    assert_eq!(aggregate("sum", false, vec![day.clone(), hours.clone()]), "P1DT12H");
    assert_eq!(aggregate("avg", false, vec![day.clone(), hours]), "PT18H");
    assert_eq!(
        aggregate("avg", false, vec![day, i(1)]),
        "error: TypeError/InvalidArgumentType"
    );
}

#[test]
fn avg_is_a_float() {
    // Act / check
    assert_eq!(aggregate("avg", false, vec![i(1), i(2), NULL]), "1.5");
    assert_eq!(
        aggregate("avg", false, vec![i(i64::MAX), i(i64::MAX)]),
        "9.223372036854776e18"
    );
    assert_eq!(aggregate("avg", false, vec![NULL]), "null");
}

#[test]
fn min_and_max_use_the_global_order() {
    // Act / check: TCK Aggregation2.
    let mixed = || vec![i(1), s("a"), NULL, l(vec![i(1), i(2)]), f(0.2), s("b")];
    assert_eq!(
        aggregate("max", false, vec![i(1), f(2.0), i(5), NULL, f(3.2), f(0.1)]),
        "5"
    );
    assert_eq!(
        aggregate("min", false, vec![i(1), f(2.0), i(5), NULL, f(3.2), f(0.1)]),
        "0.1"
    );
    assert_eq!(
        aggregate("max", false, vec![s("a"), s("b"), s("B"), NULL, s("abc"), s("abc1")]),
        "'b'"
    );
    assert_eq!(
        aggregate("min", false, vec![s("a"), s("b"), s("B"), NULL, s("abc"), s("abc1")]),
        "'B'"
    );
    assert_eq!(
        aggregate("max", false, vec![l(vec![i(1)]), l(vec![i(2)]), l(vec![i(2), i(1)])]),
        "[2, 1]"
    );
    assert_eq!(aggregate("max", false, mixed()), "1");
    assert_eq!(aggregate("min", false, mixed()), "[1, 2]");
    assert_eq!(aggregate("min", false, vec![NULL]), "null");
}

#[test]
fn collect_skips_nulls_and_keeps_first_distinct() {
    // Act / check: TCK Aggregation5, Aggregation8 [3]-[4].
    assert_eq!(aggregate("collect", false, vec![i(1), NULL, i(1)]), "[1, 1]");
    assert_eq!(aggregate("collect", true, vec![NULL, NULL]), "[]");
    assert_eq!(
        aggregate("collect", true, vec![NULL, i(1), NULL, f(1.0), i(2)]),
        "[1, 2]"
    );
}

#[test]
fn standard_deviations() {
    // Act / check
    let values = || vec![i(2), i(4), i(4), i(4), i(5), i(5), i(7), i(9)];
    assert_eq!(aggregate("stDevP", false, values()), "2.0");
    assert_eq!(aggregate("stDev", false, values()), "2.138089935299395");
    assert_eq!(aggregate("stDev", false, vec![i(1)]), "0.0");
    assert_eq!(aggregate("stDevP", false, vec![]), "0.0");
    assert_eq!(
        aggregate("stDev", false, vec![s("x")]),
        "error: TypeError/InvalidArgumentType"
    );
}

#[test]
fn percentiles() {
    // Set up: TCK Aggregation6 [1]-[2].
    let rows = |p: f64| vec![vec![f(10.0), f(p)], vec![f(20.0), f(p)], vec![f(30.0), f(p)]];
    // Act / check
    for (p, expected) in [(0.0, "10.0"), (0.5, "20.0"), (1.0, "30.0")] {
        assert_eq!(aggregate_rows("percentileDisc", false, rows(p)), expected);
        assert_eq!(aggregate_rows("percentileCont", false, rows(p)), expected);
    }
    assert_eq!(aggregate_rows("percentileCont", false, rows(0.25)), "15.0");
    assert_eq!(
        aggregate_rows("percentileDisc", false, vec![vec![i(3), f(0.4)], vec![i(1), f(0.4)]]),
        "1"
    );
    assert_eq!(aggregate_rows("percentileDisc", false, vec![]), "null");
}

#[test]
fn percentile_out_of_range_fails() {
    // Act / check: TCK Aggregation6 [3]-[5].
    for p in [i(1000), i(-1), f(1.1), f(f64::NAN)] {
        let rows = vec![vec![f(10.0), p.clone()]];
        assert_eq!(
            aggregate_rows("percentileCont", false, rows.clone()),
            "error: ArgumentError/NumberOutOfRange"
        );
        assert_eq!(
            aggregate_rows("percentileDisc", false, rows),
            "error: ArgumentError/NumberOutOfRange"
        );
    }
    assert_eq!(
        aggregate_rows("percentileDisc", false, vec![vec![f(0.9), i(3)]]),
        "error: ArgumentError/NumberOutOfRange"
    );
}
