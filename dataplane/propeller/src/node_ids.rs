//! The ids flytepropeller gives nodes that run inside other nodes, and the
//! names of the child executions launch-plan nodes start. Admin, flytekit and
//! the console find nested nodes by these ids, so they must match exactly.

/// Longest node id flytepropeller writes before it hashes the parts.
const MAX_UNIQUE_ID_LENGTH: usize = 20;

/// Flyte's base32 alphabet for hashed ids (lowercase and digits, valid in
/// Kubernetes names).
const ENCODING_ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz123456";

/// The node a nested scope runs under: a subworkflow, branch or dynamic node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParentInfo {
    /// The parent node's own unique id.
    pub unique_id: String,
    /// The parent's attempt the children belong to.
    pub attempt: u32,
}

/// The id a node's executions carry: the node id at the top level, else
/// `<parent unique id>-<parent attempt>-<node id>` (hashed when longer than 20).
pub fn unique_node_id(parent: Option<&ParentInfo>, node_id: &str) -> String {
    match parent {
        None => node_id.to_string(),
        Some(parent) => fixed_length_id_for_parts(
            &[&parent.unique_id, &parent.attempt.to_string(), node_id],
            Hash::Fnv32,
        ),
    }
}

/// The name of the child execution a launch-plan node starts; derived from
/// the ids alone so a restarted propeller finds the child it started before.
pub fn child_execution_name(parent_execution: &str, node_unique_id: &str, attempt: u32) -> String {
    fixed_length_id_for_parts(
        &[parent_execution, node_unique_id, &attempt.to_string()],
        Hash::Fnv64,
    )
}

#[derive(Clone, Copy)]
enum Hash {
    Fnv32,
    Fnv64,
}

/// The node id an index of a map node runs (and keeps its log) under: files
/// of one index live under the array node's folder.
pub fn index_node_id(array_node_id: &str, index: usize) -> String {
    format!("{array_node_id}-{index}")
}

fn fixed_length_id_for_parts(parts: &[&str], hash: Hash) -> String {
    let mut joined = String::new();
    for part in parts {
        if !joined.is_empty() {
            joined.push('-');
        }
        joined.push_str(part);
    }
    if joined.len() <= MAX_UNIQUE_ID_LENGTH {
        return joined;
    }
    let digest = match hash {
        Hash::Fnv32 => fnv1a_32(joined.as_bytes()).to_be_bytes().to_vec(),
        Hash::Fnv64 => fnv1a_64(joined.as_bytes()).to_be_bytes().to_vec(),
    };
    format!("f{}", base32_unpadded(&digest))
}

fn fnv1a_32(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5_u32, |hash, byte| {
        (hash ^ u32::from(*byte)).wrapping_mul(0x0100_0193)
    })
}

fn fnv1a_64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn base32_unpadded(bytes: &[u8]) -> String {
    let mut encoded = String::new();
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for byte in bytes {
        buffer = (buffer << 8) | u32::from(*byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            encoded.push(ENCODING_ALPHABET[((buffer >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        encoded.push(ENCODING_ALPHABET[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_level_nodes_keep_their_id() {
        assert_eq!(unique_node_id(None, "n0"), "n0");
    }

    #[test]
    fn nested_nodes_are_prefixed_with_parent_and_attempt() {
        let parent = ParentInfo {
            unique_id: "n1".into(),
            attempt: 0,
        };
        assert_eq!(unique_node_id(Some(&parent), "n0"), "n1-0-n0");
    }

    #[test]
    fn long_ids_are_hashed_to_a_short_stable_name() {
        let parent = ParentInfo {
            unique_id: "n1-0-n0-0-n3".into(),
            attempt: 2,
        };
        let id = unique_node_id(Some(&parent), "end-node");
        assert_eq!(id.len(), 8);
        assert!(id.starts_with('f'));
        assert_eq!(id, unique_node_id(Some(&parent), "end-node"));
        assert_ne!(id, unique_node_id(Some(&parent), "start-node"));
    }

    #[test]
    fn base32_uses_flytes_alphabet() {
        // FNV-1a of the empty string is 0x811c9dc5.
        assert_eq!(base32_unpadded(&0x811c_9dc5_u32.to_be_bytes()), "qeoj2ri");
    }
}
