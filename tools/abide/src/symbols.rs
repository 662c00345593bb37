//! Extracting the kernel's function symbols for its embedded symbol table.
//!
//! The kernel names the functions in its backtraces from a table the host tool
//! embeds (format: the `abide-ksyms` crate). The table is made here from the
//! linked kernel ELF's `.symtab`: every function symbol in the higher half,
//! with its Rust name demangled and the hash suffix dropped, so a backtrace
//! reads `abide_kernel::mm::map_page+0x2a`.

use abide_ksyms::encode;
use object::{Object, ObjectSymbol, SymbolKind};

/// Where the kernel's code is linked: the top 2 GiB of the address space.
/// Symbols below are boot-time (identity-mapped) code or not code at all.
pub const KERNEL_TEXT_BASE: u64 = 0xffff_ffff_8000_0000;

/// The function symbols of an ELF at or above `min_addr`, as (address, size,
/// demangled name), in address order. Symbols of size zero (labels, not
/// functions) are left out.
pub fn function_symbols(elf: &[u8], min_addr: u64) -> Result<Vec<(u64, u32, String)>, String> {
    let file = object::File::parse(elf).map_err(|e| format!("not an ELF file we can read: {e}"))?;
    let mut symbols: Vec<(u64, u32, String)> = file
        .symbols()
        .filter(|s| s.kind() == SymbolKind::Text && s.size() > 0 && s.address() >= min_addr)
        .filter_map(|s| {
            let name = s.name().ok()?;
            let size = u32::try_from(s.size()).unwrap_or(u32::MAX);
            Some((s.address(), size, demangle(name)))
        })
        .collect();
    symbols.sort_unstable();
    symbols.dedup();
    Ok(symbols)
}

/// A symbol name as people read it: Rust names demangled without the hash
/// (`{:#}`), other names unchanged.
pub fn demangle(name: &str) -> String {
    format!("{:#}", rustc_demangle::demangle(name))
}

/// The encoded symbol table for a kernel ELF.
pub fn kernel_symbol_table(elf: &[u8]) -> Result<Vec<u8>, String> {
    Ok(encode(&function_symbols(elf, KERNEL_TEXT_BASE)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use abide_ksyms::KsymTable;

    /// A function that certainly exists in the test binary under its own name.
    #[inline(never)]
    fn probe_function_for_symbol_extraction(x: u64) -> u64 {
        std::hint::black_box(x).wrapping_mul(3).rotate_left(7)
    }

    #[test]
    fn demangles_rust_names_without_the_hash() {
        assert_eq!(
            demangle("_ZN10abide_tool7symbols4demo17h0123456789abcdefE"),
            "abide_tool::symbols::demo"
        );
        assert_eq!(demangle("memcpy"), "memcpy");
    }

    #[test]
    fn extracts_demangled_functions_from_this_test_binary() {
        // Called through an opaque pointer so it is neither inlined nor dropped.
        let f: fn(u64) -> u64 = std::hint::black_box(probe_function_for_symbol_extraction);
        assert_eq!(f(1), 384);

        let elf = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        let symbols = function_symbols(&elf, 0).unwrap();
        let name = "abide_tool::symbols::tests::probe_function_for_symbol_extraction";
        let probe = symbols
            .iter()
            .find(|(_, _, n)| n == name)
            .unwrap_or_else(|| panic!("{name} not among {} symbols", symbols.len()));
        assert!(probe.1 > 0);
        assert!(
            !symbols.iter().any(|(_, _, n)| n.starts_with("_ZN")),
            "every Rust name is demangled"
        );
        assert!(symbols.windows(2).all(|w| w[0] <= w[1]), "sorted");

        // The table finds the function by an address inside it.
        let table_bytes = encode(&symbols);
        let table = KsymTable::parse(&table_bytes).unwrap();
        assert_eq!(table.lookup(probe.0 + 1), Some((name, 1)));

        // None of the test binary's code is in the kernel's half.
        assert!(function_symbols(&elf, KERNEL_TEXT_BASE).unwrap().is_empty());
        assert_eq!(kernel_symbol_table(&elf).unwrap(), encode(&[]));
    }

    #[test]
    fn rejects_non_elf_input() {
        assert!(function_symbols(b"not an elf", 0).is_err());
    }
}
