//! Processes that Apple capture metadata names, numbered per capture so that flow state
//! keeps a `u32` per packet.

use std::collections::HashMap;

use wiretrust_pcap::{LinkType, Packet, PktapHeader};

/// A process that Apple capture metadata names, with the effective process
/// it acted for when that is a different one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PacketOwner {
    pub pid: u32,
    pub name: Option<String>,
    pub path: Option<String>,
    pub uuid: Option<[u8; 16]>,
    pub effective: Option<(u32, Option<String>)>,
}

/// A [`PacketOwner`] borrowed from a packet, compared without allocating.
struct OwnerView<'a> {
    pid: u32,
    name: Option<&'a [u8]>,
    path: Option<&'a str>,
    uuid: Option<[u8; 16]>,
    effective: Option<(u32, Option<&'a [u8]>)>,
}

impl OwnerView<'_> {
    fn matches(&self, owner: &PacketOwner) -> bool {
        let name = owner.name.as_deref().map(str::as_bytes);
        let effective = owner
            .effective
            .as_ref()
            .map(|(pid, name)| (*pid, name.as_deref().map(str::as_bytes)));
        self.pid == owner.pid
            && self.name == name
            && self.path == owner.path.as_deref()
            && self.uuid == owner.uuid
            && self.effective == effective
    }

    fn to_owner(&self) -> PacketOwner {
        let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
        PacketOwner {
            pid: self.pid,
            name: self.name.map(text),
            path: self.path.map(str::to_owned),
            uuid: self.uuid,
            effective: self.effective.map(|(pid, name)| (pid, name.map(text))),
        }
    }
}

/// Numbers the distinct processes that a capture's packets name, from 0 in
/// order of first appearance, so that flow state keeps a `u32` per packet.
#[derive(Debug, Default)]
pub(crate) struct ProcessDirectory {
    /// Numbers of the known processes by pid: most pids have one entry, so
    /// a packet's process is found without allocating.
    by_pid: HashMap<u32, Vec<u32>>,
    owners: Vec<PacketOwner>,
    /// Processes numbered since the last [`ProcessDirectory::take_new`].
    new: usize,
}

impl ProcessDirectory {
    /// Returns the number of the process that `packet` names, from pcapng
    /// process information blocks or a pktap header, if it names one.
    pub fn identify(&mut self, packet: &Packet<'_>) -> Option<u32> {
        let metadata = packet.process();
        let info = metadata.process_index.and_then(|i| packet.process_block(i));
        if let Some(info) = info {
            let effective = metadata.effective_process_index;
            let effective = effective
                .and_then(|i| packet.process_block(i))
                .filter(|e| e.pid != info.pid || e.name != info.name)
                .map(|e| (e.pid, e.name.as_deref().map(str::as_bytes)));
            return Some(self.number(OwnerView {
                pid: info.pid,
                name: info.name.as_deref().map(str::as_bytes),
                path: info.path.as_deref(),
                uuid: info.uuid,
                effective,
            }));
        }
        if !matches!(packet.link_type, LinkType::PKTAP | LinkType::PKTAP_APPLE) {
            return None;
        }
        let (header, _) = PktapHeader::parse(packet.data).ok()?;
        let pid = header.process_id()?;
        let effective = header
            .effective_process_id()
            .filter(|&epid| epid != pid || header.ecomm != header.comm)
            .map(|epid| (epid, Some(header.ecomm).filter(|name| !name.is_empty())));
        Some(self.number(OwnerView {
            pid,
            name: Some(header.comm).filter(|name| !name.is_empty()),
            path: None,
            uuid: header.uuid,
            effective,
        }))
    }

    fn number(&mut self, view: OwnerView<'_>) -> u32 {
        let known = self.by_pid.entry(view.pid).or_default();
        let found = known.iter().copied().find(|&number| {
            let owner = self.owners.get(number as usize);
            owner.is_some_and(|owner| view.matches(owner))
        });
        if let Some(number) = found {
            return number;
        }
        let number = u32::try_from(self.owners.len()).unwrap_or(u32::MAX);
        known.push(number);
        self.owners.push(view.to_owner());
        number
    }

    /// Returns the processes numbered since the last call, in number order.
    pub fn take_new(&mut self) -> &[PacketOwner] {
        let start = self.new;
        self.new = self.owners.len();
        self.owners.get(start..).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use wiretrust_pcap::{ByteOrder, ProcessInfo};

    use super::*;

    /// Builds a frame with a 156-byte pktap header for `pid`/`comm` acting
    /// for `epid`/`ecomm`, followed by nothing.
    fn pktap_frame(pid: i32, comm: &str, epid: i32, ecomm: &str) -> Vec<u8> {
        let mut header = vec![0u8; 156];
        header[0..4].copy_from_slice(&156u32.to_le_bytes());
        header[4..8].copy_from_slice(&1u32.to_le_bytes());
        header[52..56].copy_from_slice(&pid.to_le_bytes());
        header[56..56 + comm.len()].copy_from_slice(comm.as_bytes());
        header[84..88].copy_from_slice(&epid.to_le_bytes());
        header[88..88 + ecomm.len()].copy_from_slice(ecomm.as_bytes());
        header
    }

    /// Encodes the process index options 0x8001 and 0x8003 of a pcapng
    /// packet block, little endian.
    fn process_options(index: u32, effective: u32) -> Vec<u8> {
        let mut options = Vec::new();
        for (code, value) in [(0x8001u16, index), (0x8003, effective)] {
            options.extend_from_slice(&code.to_le_bytes());
            options.extend_from_slice(&4u16.to_le_bytes());
            options.extend_from_slice(&value.to_le_bytes());
        }
        options.extend_from_slice(&[0; 4]);
        options
    }

    fn packet<'a>(
        link_type: LinkType,
        data: &'a [u8],
        options: &'a [u8],
        processes: &'a [Option<ProcessInfo>],
    ) -> Packet<'a> {
        Packet {
            number: 1,
            offset: 0,
            timestamp_ns: 0,
            link_type,
            interface: 0,
            data,
            original_len: data.len() as u32,
            options,
            byte_order: ByteOrder::Little,
            processes,
        }
    }

    fn identify_pktap(directory: &mut ProcessDirectory, frame: &[u8]) -> Option<u32> {
        let packet = packet(LinkType::PKTAP, frame, &[], &[]);
        directory.identify(&packet)
    }

    #[test]
    fn directory_numbers_distinct_processes() {
        let mut directory = ProcessDirectory::default();
        let curl = pktap_frame(4242, "curl", 4242, "curl");
        let other = pktap_frame(4242, "zsh", 4242, "zsh");
        let numbers = [
            identify_pktap(&mut directory, &curl),
            identify_pktap(&mut directory, &other),
            identify_pktap(&mut directory, &curl),
        ];
        assert_eq!(numbers, [Some(0), Some(1), Some(0)]);
        let new: Vec<Option<String>> = directory
            .take_new()
            .iter()
            .map(|o| o.name.clone())
            .collect();
        assert_eq!(new, [Some("curl".to_owned()), Some("zsh".to_owned())]);
        assert!(directory.take_new().is_empty());
    }

    #[test]
    fn directory_effective_only_when_different() {
        let mut directory = ProcessDirectory::default();
        identify_pktap(
            &mut directory,
            &pktap_frame(88, "nsurlsessiond", 501, "Safari"),
        );
        identify_pktap(&mut directory, &pktap_frame(4242, "curl", 4242, "curl"));
        let effective: Vec<Option<(u32, Option<String>)>> = directory
            .take_new()
            .iter()
            .map(|o| o.effective.clone())
            .collect();
        assert_eq!(effective, [Some((501, Some("Safari".to_owned()))), None]);
    }

    #[test]
    fn directory_ignores_unknown_pid() {
        let mut directory = ProcessDirectory::default();
        let frame = pktap_frame(-1, "", -1, "");
        assert_eq!(identify_pktap(&mut directory, &frame), None);
        let short = [0u8; 20];
        assert_eq!(identify_pktap(&mut directory, &short), None);
    }

    #[test]
    fn directory_reads_process_blocks() {
        let processes = [
            Some(ProcessInfo {
                pid: 501,
                name: Some("Safari".to_owned()),
                path: Some("/Applications/Safari.app".to_owned()),
                uuid: None,
            }),
            Some(ProcessInfo {
                pid: 88,
                name: Some("nsurlsessiond".to_owned()),
                path: None,
                uuid: None,
            }),
        ];
        let options = process_options(1, 0);
        let mut directory = ProcessDirectory::default();
        let packet = packet(LinkType::NULL, &[], &options, &processes);
        assert_eq!(directory.identify(&packet), Some(0));
        let owner = directory.take_new().first().cloned();
        let fields = owner.map(|o| (o.pid, o.effective));
        assert_eq!(fields, Some((88, Some((501, Some("Safari".to_owned()))))));
    }

    #[test]
    fn directory_ignores_plain_packets() {
        let mut directory = ProcessDirectory::default();
        let packet = packet(LinkType::ETHERNET, &[0; 60], &[], &[]);
        assert_eq!(directory.identify(&packet), None);
    }
}
