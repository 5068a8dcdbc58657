//! The stored format of events: pinned JSON per type, serde round trips, and upcasting of old schemas.

use crate::fixtures::*;
use expo_domain::event::{schema_of, DecodeError};
use expo_domain::Event;

#[test]
fn every_event_type_is_in_the_sample() {
    let names: Vec<_> = one_of_each_event().iter().map(Event::type_name).collect();
    assert_eq!(names, Event::TYPES);
}

/// An accidental change to a type name, a field name or a schema version
/// fails here. Changing the format on purpose means a new schema version,
/// an upcaster, and new snapshots.
#[test]
fn event_json_is_pinned() {
    insta::with_settings!({ snapshot_path => "../snapshots", prepend_module_to_snapshot => false }, {
        for event in one_of_each_event() {
            let pinned = format!(
                "schema: {}\njson: {}",
                event.schema(),
                serde_json::to_string(&event).unwrap()
            );
            insta::assert_snapshot!(event.type_name(), pinned);
        }
    });
}

#[test]
fn events_round_trip_through_serde_json_and_from_parts() {
    for event in one_of_each_event() {
        let json = serde_json::to_string(&event).unwrap();
        assert_eq!(
            serde_json::from_str::<Event>(&json).unwrap(),
            event,
            "{json}"
        );
        let back = Event::from_parts(event.type_name(), event.schema(), event.data_json());
        assert_eq!(back, Ok(event));
    }
}

#[test]
fn delegate_added_schema_1_is_upcast_with_nationality_pk() {
    let mut data = added("1234567", "AB1234567").data_json();
    data.as_object_mut().unwrap().remove("nationality");
    assert_eq!(schema_of("DelegateAdded"), Some(2));
    assert_eq!(
        Event::from_parts("DelegateAdded", 1, data.clone()),
        Ok(added("1234567", "AB1234567"))
    );
    // Schema 2 without nationality is bad data, not silently defaulted.
    assert!(matches!(
        Event::from_parts("DelegateAdded", 2, data),
        Err(DecodeError::Data { .. })
    ));
}

#[test]
fn undecodable_records_are_typed_errors() {
    let data = approved("1234567").data_json();
    assert_eq!(
        Event::from_parts("CompanyExploded", 1, data.clone()),
        Err(DecodeError::UnknownType("CompanyExploded".into()))
    );
    assert_eq!(
        Event::from_parts("CompanyApproved", 7, data),
        Err(DecodeError::UnknownSchema {
            type_name: "CompanyApproved".into(),
            schema: 7
        })
    );
    // Stored values go through the parsers: an invalid NTN is refused.
    let bad = serde_json::json!({ "ntn": "12" });
    assert!(matches!(
        Event::from_parts("CompanyApproved", 1, bad),
        Err(DecodeError::Data { .. })
    ));
}
