/// The RUNPATH (or legacy RPATH) of an ELF64 little-endian executable: where ld.so looks for its
/// libraries first. Enough ELF to find `{swift_runtime}` for a plugin's Landlock rules; not a parser.
enum ELFRunpath {
    static let ptLoad: UInt32 = 1, ptDynamic: UInt32 = 2
    static let dtNull: UInt64 = 0, dtStrtab: UInt64 = 5, dtRpath: UInt64 = 15, dtRunpath: UInt64 = 29

    /// The search folders in `bytes`, `$ORIGIN` not yet replaced; empty when there are none or the file
    /// is not a 64-bit little-endian ELF.
    static func entries(_ bytes: [UInt8]) -> [String] {
        guard bytes.count > 0x40, bytes[0..<4] == [0x7F, 0x45, 0x4C, 0x46], bytes[4] == 2, bytes[5] == 1 else { return [] }
        let phoff = Int(clamping: u64(bytes, 0x20) ?? 0)
        let phentsize = Int(u16(bytes, 0x36) ?? 0), phnum = Int(u16(bytes, 0x38) ?? 0)
        var loads: [(vaddr: UInt64, offset: UInt64, size: UInt64)] = []
        var dynamic: (offset: Int, size: Int)?
        for i in 0..<phnum {
            let at = phoff + i * phentsize
            guard let type = u32(bytes, at), let offset = u64(bytes, at + 8), let vaddr = u64(bytes, at + 0x10),
                  let size = u64(bytes, at + 0x20) else { return [] }
            if type == ptLoad { loads.append((vaddr, offset, size)) }
            if type == ptDynamic { dynamic = (Int(clamping: offset), Int(clamping: size)) }
        }
        guard let dynamic else { return [] }
        var strtab: UInt64?, paths: [UInt64] = []
        var at = dynamic.offset
        while at + 16 <= min(bytes.count, dynamic.offset + dynamic.size), let tag = u64(bytes, at), tag != dtNull {
            let value = u64(bytes, at + 8) ?? 0
            if tag == dtStrtab { strtab = value }
            if tag == dtRunpath || tag == dtRpath { paths.append(value) }
            at += 16
        }
        // DT_STRTAB is a virtual address: map it back to a file offset through the PT_LOAD segment holding it.
        guard let strtab, let seg = loads.first(where: { strtab >= $0.vaddr && strtab < $0.vaddr + $0.size }) else { return [] }
        let base = Int(clamping: strtab - seg.vaddr + seg.offset)
        return paths.flatMap { cString(bytes, base + Int(clamping: $0)).split(separator: ":").map(String.init) }
    }

    static func cString(_ bytes: [UInt8], _ at: Int) -> String {
        guard at >= 0, at < bytes.count else { return "" }
        let end = bytes[at...].firstIndex(of: 0) ?? bytes.count
        return String(decoding: bytes[at..<end], as: UTF8.self)
    }

    static func u16(_ b: [UInt8], _ at: Int) -> UInt16? { le(b, at, 2).map { UInt16($0) } }
    static func u32(_ b: [UInt8], _ at: Int) -> UInt32? { le(b, at, 4).map { UInt32($0) } }
    static func u64(_ b: [UInt8], _ at: Int) -> UInt64? { le(b, at, 8) }

    static func le(_ b: [UInt8], _ at: Int, _ n: Int) -> UInt64? {
        guard at >= 0, at + n <= b.count else { return nil }
        var v: UInt64 = 0
        for i in (0..<n).reversed() { v = v << 8 | UInt64(b[at + i]) }
        return v
    }
}

/// Where a plugin's Swift runtime is, for the `{swift_runtime}` placeholder.
public enum SwiftRuntime {
    /// The first folder of `executable`'s RUNPATH (with `$ORIGIN` replaced) that holds libswiftCore.so,
    /// or nil (a static binary, no RUNPATH, or an unreadable file): then the caller passes one in.
    public static func directory(ofExecutable executable: String) -> String? {
        guard let bytes = SysFile.readBytes(executable, limit: 512 << 20) else { return nil }
        let origin = executable.split(separator: "/").dropLast().joined(separator: "/")
        for entry in ELFRunpath.entries(bytes) {
            let dir = Placeholders.normalize(entry.replacingAll("${ORIGIN}", with: "/" + origin)
                .replacingAll("$ORIGIN", with: "/" + origin))
            if SysFile.exists(dir + "/libswiftCore.so") { return dir }
        }
        return nil
    }
}
