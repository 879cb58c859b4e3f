// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title Codes
/// @notice The canonical territory and field-of-use codes of a license, as left-aligned ASCII in a
/// bytes32 with nothing but zero bytes after the code. One spelling per place and per field, so that
/// "CN", "CHN", "156" and "cn" cannot be four exclusive licenses for China.
///
/// Territory (ISO 3166):
/// - the zero code: the whole world (it covers every territory);
/// - a country: an assigned ISO 3166-1 alpha-2 code in capitals, e.g. "CN", "US", "DE";
/// - a subdivision (ISO 3166-2): an assigned country code, "-", then 1 to 3 capitals or digits,
///   e.g. "CN-11" (Beijing), "US-CA", "GB-ENG".
/// Grammar: `"" | C C | C C "-" X{1,3}` where C is A-Z, X is A-Z or 0-9, and C C is assigned in
/// ISO 3166-1 (the table below, from pycountry's ISO 3166-1 list; user-assigned codes such as "XX"
/// and "WW" are not countries). The subdivision part is checked for shape only.
///
/// Field of use (International Patent Classification, IPC):
/// - the zero code: every field;
/// - a section "H", a class "H04", a subclass "H04L", or a main group "H04L9/00".
/// Grammar: `"" | S | S D D | S D D L | S D D L N "/00"` where S is A-H, D is 0-9, L is A-Z and N is
/// a number of 1 to 4 digits without leading zero. Subgroups ("H04L9/32") are not accepted: a main
/// group covers its subgroups, which a prefix comparison cannot tell, so the coarsest level that
/// prefixes describe exactly is the finest one allowed.
/// With these grammars "one code is a prefix of the other" is exactly "one covers the other".
library Codes {
    /// @dev Bit (a - 'A') * 26 + (b - 'A') of this 676-bit table (three words, low word first) is
    /// set when "ab" is an assigned ISO 3166-1 alpha-2 code (249 codes, pycountry 26.2.16).
    uint256 private constant _ISO3166_0 = 0x340400f7818068d0015fb9fb0095c000e00d48015843f27deddbdefeedf5978;
    uint256 private constant _ISO3166_1 = 0x9fbb3ae7fdf1510040000001538f3c400100084b25d7fffcfd4f8141f42b1d00;
    uint256 private constant _ISO3166_2 = 0x000000000000000000000001004004080010000000004002004085570410419a;

    /// @notice Whether `code` is a canonical territory (see the library notes).
    function isCanonicalTerritory(bytes32 code) internal pure returns (bool) {
        (uint256 n, bool clean) = _length(code);
        if (!clean) return false;
        if (n == 0) return true;
        if (n != 2 && (n < 4 || n > 6)) return false;
        uint8 a = uint8(code[0]);
        uint8 b = uint8(code[1]);
        if (!_isUpper(a) || !_isUpper(b) || !_isAssignedCountry(a, b)) return false;
        if (n == 2) return true;
        if (code[2] != "-") return false;
        for (uint256 i = 3; i < n; ++i) {
            uint8 c = uint8(code[i]);
            if (!_isUpper(c) && !_isDigit(c)) return false;
        }
        return true;
    }

    /// @notice Whether `code` is a canonical field of use (see the library notes).
    function isCanonicalField(bytes32 code) internal pure returns (bool) {
        (uint256 n, bool clean) = _length(code);
        if (!clean) return false;
        if (n == 0) return true;
        uint8 section = uint8(code[0]);
        if (section < 0x41 || section > 0x48) return false; // A-H
        if (n == 1) return true;
        if (n == 2 || !_isDigit(uint8(code[1])) || !_isDigit(uint8(code[2]))) return false;
        if (n == 3) return true;
        if (!_isUpper(uint8(code[3]))) return false;
        if (n == 4) return true;
        if (n < 8 || n > 11) return false; // 1 to 4 digits, then "/00"
        if (code[n - 3] != "/" || code[n - 2] != "0" || code[n - 1] != "0") return false;
        if (code[4] == "0") return false;
        for (uint256 i = 4; i < n - 3; ++i) {
            if (!_isDigit(uint8(code[i]))) return false;
        }
        return true;
    }

    /// @dev The number of leading non-zero bytes, and whether every byte after them is zero.
    function _length(bytes32 code) private pure returns (uint256 n, bool clean) {
        while (n < 32 && code[n] != 0) ++n;
        clean = n == 32 || (uint256(code) << (8 * n)) == 0;
    }

    function _isAssignedCountry(uint8 a, uint8 b) private pure returns (bool) {
        uint256 bit = (uint256(a) - 0x41) * 26 + (uint256(b) - 0x41);
        uint256 word = bit < 256 ? _ISO3166_0 : bit < 512 ? _ISO3166_1 : _ISO3166_2;
        return (word >> (bit % 256)) & 1 == 1;
    }

    function _isUpper(uint8 c) private pure returns (bool) {
        return c >= 0x41 && c <= 0x5A;
    }

    function _isDigit(uint8 c) private pure returns (bool) {
        return c >= 0x30 && c <= 0x39;
    }
}
