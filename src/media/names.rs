//! Element names are a contract made here: `{role}-{id}`. Bus messages are mapped back to an
//! output or source by [`Name::parse`], never by ad-hoc string matching elsewhere.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A source's bin (file, test, later WHIP/SRT).
    Source,
    /// An output branch's bin (recording, HLS, RTMP).
    Output,
    /// The shared program part: background, mixers, lower third, encoders, tees.
    Program,
}

impl Role {
    fn prefix(self) -> &'static str {
        match self {
            Role::Source => "source",
            Role::Output => "output",
            Role::Program => "program",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name {
    pub role: Role,
    pub id: String,
}

impl Name {
    pub fn source(id: &str) -> String {
        format!("source-{id}")
    }
    pub fn output(id: &str) -> String {
        format!("output-{id}")
    }
    pub fn program(part: &str) -> String {
        format!("program-{part}")
    }

    /// Maps an element name back to its role and id; `None` for names we did not make.
    pub fn parse(name: &str) -> Option<Name> {
        for role in [Role::Source, Role::Output, Role::Program] {
            if let Some(id) = name.strip_prefix(role.prefix()).and_then(|r| r.strip_prefix('-'))
                && !id.is_empty()
            {
                return Some(Name { role, id: id.to_owned() });
            }
        }
        None
    }

    /// Finds the outermost element we named on the path of a bus message's source object,
    /// e.g. `/GstPipeline:program/GstBin:output-recording/GstFileSink:sink` → output `recording`.
    pub fn owner_of(path: &str) -> Option<Name> {
        path.split('/')
            .filter_map(|seg| seg.rsplit_once(':').map(|(_, n)| n))
            .find_map(|n| Name::parse(n).filter(|n| n.role != Role::Program))
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.role.prefix(), self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_bus_paths_map_to_their_owner() {
        let n = Name::parse(&Name::output("recording")).unwrap();
        assert_eq!(n, Name { role: Role::Output, id: "recording".into() });
        assert_eq!(n.to_string(), "output-recording");
        assert_eq!(Name::parse("queue0"), None);
        assert_eq!(Name::parse("source-"), None);
        let owner = Name::owner_of("/GstPipeline:program-live/GstBin:output-rtmp/GstRtmp2Sink:sink").unwrap();
        assert_eq!((owner.role, owner.id.as_str()), (Role::Output, "rtmp"));
        let owner = Name::owner_of("/GstPipeline:program-live/GstBin:source-host/GstDecodeBin:dec").unwrap();
        assert_eq!((owner.role, owner.id.as_str()), (Role::Source, "host"));
        assert_eq!(Name::owner_of("/GstPipeline:program-live/GstCompositor:program-compositor"), None);
    }
}
