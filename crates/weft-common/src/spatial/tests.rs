use std::cmp::Ordering;
use std::collections::hash_map::DefaultHasher;
use std::hash::Hasher;

use super::*;

fn cart(x: f64, y: f64) -> Point {
    Point::new(Crs::Cartesian, &[x, y]).expect("valid")
}

fn wgs(lon: f64, lat: f64) -> Point {
    Point::new(Crs::Wgs84, &[lon, lat]).expect("valid")
}

fn equivalent_hash(p: &Point) -> u64 {
    let mut h = DefaultHasher::new();
    p.hash_equivalent(&mut h);
    h.finish()
}

#[test]
fn crs_names_and_srids_round_trip() {
    for crs in Crs::ALL {
        assert_eq!(Crs::from_srid(crs.srid()), Some(crs));
        assert_eq!(Crs::from_name(crs.name()), Some(crs));
        assert_eq!(Crs::of(crs.is_geographic(), crs.dimension()), crs);
    }
    assert_eq!(Crs::from_name("WGS-84-2D"), Some(Crs::Wgs84));
    assert_eq!(Crs::from_name("Cartesian-3D"), Some(Crs::Cartesian3D));
    assert_eq!(Crs::from_name("polar"), None);
    assert_eq!(Crs::from_srid(4327), None);
}

#[test]
fn new_checks_dimension_and_finiteness() {
    assert!(Point::new(Crs::Cartesian, &[1.0]).is_none());
    assert!(Point::new(Crs::Cartesian, &[1.0, 2.0, 3.0]).is_none());
    assert!(Point::new(Crs::Cartesian3D, &[1.0, 2.0]).is_none());
    assert!(Point::new(Crs::Cartesian, &[f64::NAN, 2.0]).is_none());
    assert!(Point::new(Crs::Wgs84, &[f64::INFINITY, 2.0]).is_none());
    let p = Point::new(Crs::Wgs84_3D, &[1.0, 2.0, 3.0]).expect("valid");
    assert_eq!((p.x(), p.y(), p.z(), p.srid()), (1.0, 2.0, Some(3.0), 4979));
    assert_eq!(cart(1.0, 2.0).z(), None);
}

#[test]
fn order_is_by_srid_then_coordinates() {
    assert_eq!(cart(1.0, 2.0).order_cmp(&cart(1.0, 3.0)), Ordering::Less);
    assert_eq!(cart(2.0, 0.0).order_cmp(&cart(1.0, 3.0)), Ordering::Greater);
    // wgs-84 (4326) sorts before cartesian (7203) whatever the coordinates.
    assert_eq!(wgs(9.0, 9.0).order_cmp(&cart(0.0, 0.0)), Ordering::Less);
    assert_eq!(cart(0.0, -0.0).order_cmp(&cart(-0.0, 0.0)), Ordering::Equal);
    assert_ne!(cart(0.0, -0.0), cart(-0.0, 0.0), "structural identity keeps the sign");
    assert_eq!(equivalent_hash(&cart(0.0, -0.0)), equivalent_hash(&cart(-0.0, 0.0)));
}

#[test]
fn cartesian_distance_is_euclidean() {
    assert_eq!(cart(0.0, 0.0).distance(&cart(3.0, 4.0)), Some(5.0));
    let a = Point::new(Crs::Cartesian3D, &[0.0, 0.0, 0.0]).expect("valid");
    let b = Point::new(Crs::Cartesian3D, &[2.0, 3.0, 6.0]).expect("valid");
    assert_eq!(a.distance(&b), Some(7.0));
    assert_eq!(a.distance(&cart(0.0, 0.0)), None);
}

#[test]
fn wgs84_distance_is_great_circle() {
    // A quarter of the equator.
    let quarter = wgs(0.0, 0.0).distance(&wgs(90.0, 0.0)).expect("same crs");
    assert!((quarter - EARTH_RADIUS_METERS * std::f64::consts::FRAC_PI_2).abs() < 1e-6);
    // Copenhagen to Malmö, about 27.8 km.
    let d = wgs(12.564590, 55.672874)
        .distance(&wgs(12.994341, 55.611784))
        .expect("same crs");
    assert!((d - 27_842.0).abs() < 10.0, "{d}");
    assert_eq!(wgs(0.0, 0.0).distance(&cart(0.0, 0.0)), None);
}

#[test]
fn wgs84_3d_distance_adds_height() {
    let p = |lon, h| Point::new(Crs::Wgs84_3D, &[lon, 0.0, h]).expect("valid");
    assert_eq!(p(0.0, 0.0).distance(&p(0.0, 100.0)), Some(100.0));
    // Along the equator at a mean height of 1000 m, with 2000 m between them.
    let d = p(0.0, 0.0).distance(&p(1.0, 2000.0)).expect("same crs");
    let surface = (EARTH_RADIUS_METERS + 1000.0) * 1f64.to_radians();
    assert!((d - (surface * surface + 2000.0 * 2000.0).sqrt()).abs() < 1e-6);
}

#[test]
fn within_bbox_includes_bounds() {
    let (ll, ur) = (cart(0.0, 0.0), cart(10.0, 10.0));
    assert_eq!(cart(5.0, 5.0).within_bbox(&ll, &ur), Some(true));
    assert_eq!(cart(10.0, 0.0).within_bbox(&ll, &ur), Some(true));
    assert_eq!(cart(11.0, 5.0).within_bbox(&ll, &ur), Some(false));
    assert_eq!(cart(5.0, -1.0).within_bbox(&ll, &ur), Some(false));
    assert_eq!(wgs(5.0, 5.0).within_bbox(&ll, &ur), None);
    // Cartesian boxes never wrap.
    assert_eq!(cart(5.0, 5.0).within_bbox(&ur, &ll), Some(false));
}

#[test]
fn within_bbox_3d_checks_z() {
    let p = |z| Point::new(Crs::Cartesian3D, &[1.0, 1.0, z]).expect("valid");
    assert_eq!(p(1.0).within_bbox(&p(0.0), &p(2.0)), Some(true));
    assert_eq!(p(3.0).within_bbox(&p(0.0), &p(2.0)), Some(false));
}

#[test]
fn wgs84_bbox_crosses_the_dateline() {
    let (ll, ur) = (wgs(170.0, -10.0), wgs(-170.0, 10.0));
    assert_eq!(wgs(175.0, 0.0).within_bbox(&ll, &ur), Some(true));
    assert_eq!(wgs(-175.0, 0.0).within_bbox(&ll, &ur), Some(true));
    assert_eq!(wgs(0.0, 0.0).within_bbox(&ll, &ur), Some(false));
    assert_eq!(wgs(175.0, 20.0).within_bbox(&ll, &ur), Some(false));
}

#[test]
fn display_is_neo4j_to_string() {
    assert_eq!(cart(1.5, 2.5).to_string(), "point({x: 1.5, y: 2.5, crs: 'cartesian'})");
    let p = Point::new(Crs::Wgs84_3D, &[1.0, 2.0, 3.0]).expect("valid");
    assert_eq!(p.to_string(), "point({x: 1.0, y: 2.0, z: 3.0, crs: 'wgs-84-3d'})");
}
