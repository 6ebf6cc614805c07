import ipaddr from "ipaddr.js";

/**
 * Which addresses a tenant-supplied URL may reach. Only public unicast is allowed: a webhook or media
 * URL must never be a way into our own network (loopback, the VPC, the metadata server that hands
 * out the service account's token).
 */

export interface AddressPolicy {
  /**
   * Lets loopback, private (RFC 1918, CGNAT, unique-local) through, for tests and local development.
   * Link-local (the metadata server, 169.254.169.254) and the metadata names stay refused.
   */
  allowPrivate: boolean;
}

/** Names that reach the metadata server whatever they resolve to. */
const metadataNames: ReadonlySet<string> = new Set(["metadata.google.internal", "metadata"]);

/** Ranges `allowPrivate` lets through (ipaddr.js range names). */
const privateRanges: ReadonlySet<string> = new Set(["loopback", "private", "carrierGradeNat", "uniqueLocal"]);

/** Why a host name is refused before any lookup, or null. */
export function refusedHostName(hostname: string): string | null {
  const name = hostname.toLowerCase().replace(/\.+$/, "");
  return metadataNames.has(name) ? `${hostname} is the cloud metadata server` : null;
}

/**
 * Why an address is refused, or null when it may be reached. IPv6 forms that carry an IPv4 address
 * (mapped, NAT64, 6to4, IPv4-compatible) are judged by the address they carry.
 */
export function refusedAddress(address: string, policy: AddressPolicy): string | null {
  if (!ipaddr.isValid(address)) return `${address} is not an IP address`;
  let ip = ipaddr.parse(address);
  if (ip instanceof ipaddr.IPv6) {
    const embedded = embeddedIpv4(ip);
    if (embedded === "opaque") return `${address} is a tunnelled IPv6 address (Teredo), which hides where it leads`;
    if (embedded) ip = embedded;
  }
  const range = ip.range();
  if (range === "unicast") return null;
  if (policy.allowPrivate && privateRanges.has(range)) return null;
  const carried = ip.toString() === address ? "" : ` (${ip.toString()})`;
  return `${address}${carried} is a ${describe(range)} address`;
}

function embeddedIpv4(ip: ipaddr.IPv6): ipaddr.IPv4 | "opaque" | null {
  const bytes = ip.toByteArray();
  const v4 = (offset: number) => new ipaddr.IPv4(bytes.slice(offset, offset + 4));
  switch (ip.range()) {
    case "ipv4Mapped":
    case "rfc6145":
    case "rfc6052":
      return v4(12);
    case "6to4":
      return v4(2);
    case "teredo":
      return "opaque";
    default:
      break;
  }
  // ::a.b.c.d (IPv4-compatible, deprecated) is still routed to a.b.c.d by some stacks.
  if (ip.parts.slice(0, 6).every((part) => part === 0) && ip.range() !== "loopback" && ip.range() !== "unspecified") {
    return v4(12);
  }
  return null;
}

function describe(range: string): string {
  switch (range) {
    case "carrierGradeNat":
      return "carrier-grade NAT (100.64.0.0/10)";
    case "uniqueLocal":
      return "unique-local (private IPv6)";
    case "linkLocal":
      return "link-local (including the cloud metadata server)";
    case "private":
      return "private (RFC 1918)";
    default:
      return range.replace(/([A-Z])/g, " $1").toLowerCase();
  }
}
