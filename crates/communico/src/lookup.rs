//! The lookup lists: event types, age groups and locations.

use crate::wire::api_object;

api_object! {
    /// An event type (`/v3/attend/types`, reference §2d). Filter events by its
    /// [`name`](EventType::name): the API filters by name, not by id.
    pub struct EventType {
        /// `name`, for example `Family Program`.
        "name" => name: String,
        /// `id`, not seen in the wild but kept if sent.
        "id" => id: u64,
    }
    bare_string => name;
}

api_object! {
    /// An age group (`/v3/attend/ages`, reference §2e). The API sends each entry as a bare
    /// string; an object with a `name` is accepted too, and either is written back the way
    /// it came.
    ///
    /// ```
    /// let ages: Vec<communico::AgeGroup> = serde_json::from_str(r#"["Teens (11-17)", {"name": "Adults (18+)"}]"#)?;
    /// assert_eq!(ages[0].name.as_deref(), Some("Teens (11-17)"));
    /// assert_eq!(serde_json::to_string(&ages)?, r#"["Teens (11-17)",{"name":"Adults (18+)"}]"#);
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub struct AgeGroup {
        /// The age group's name, for example `Adults (18+)`.
        "name" => name: String,
    }
    bare_string => name;
}

api_object! {
    /// A branch (`/v3/client/locations`, reference §2f).
    pub struct Location {
        /// `id`.
        "id" => id: u64,
        /// `name`.
        "name" => name: String,
    }
}

impl crate::paging::Listed for EventType {
    // Filtered by name, and the `id` is not seen in the wild: compared by content.
    fn id(&self) -> Option<u64> {
        None
    }
}

impl crate::paging::Listed for AgeGroup {
    fn id(&self) -> Option<u64> {
        None
    }
}

impl crate::paging::Listed for Location {
    fn id(&self) -> Option<u64> {
        self.id
    }
}
