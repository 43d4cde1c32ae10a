// Presets: the fields the products usersync replaces show, by name, for `mapping.fields` and `mapping.custom`
// (`{"preset": "claimsAccount"}`). Each is an expression of the language and works exactly as written here; docs/mapping.md
// lists them, and `usersync expression` can try them.

export const PRESETS = {
  /** SharePoint's claims account: `i:0#.f|membership|first.last@contoso.com`. */
  claimsAccount: 'Join("", "i:0#.f|membership|", ToLower([userPrincipalName]))',
  /** The OneDrive (personal site) path: `/first_last_contoso_com/`. */
  oneDrivePath: 'Join("", "/", Replace(Replace(ToLower([userPrincipalName]), , "[.@]", , "_", , ), , "$", , "/", , ))',
  /** The primary SMTP address from proxyAddresses: the `SMTP:` one, else the first `smtp:` one (SharePoint's order). */
  primarySmtp:
    'Replace(Join(",", [proxyAddresses]), , "^(?:.*?,)??SMTP:([^,]*).*$|^(?:.*?,)??smtp:([^,]*).*$|^.*$", , "$1$2", , )',
  /** The other addresses (`smtp:`, lower case) from proxyAddresses, separated by `;`. */
  aliases:
    'Replace(Replace(Replace(Join(",", [proxyAddresses]), , "(?:^|,)(?!smtp:)[^,]*", , "", , ), , ",?smtp:", , ";", , ), , "^;", , "", , )',
  /** The SIP address from proxyAddresses (`sip:` or `SIP:`). */
  sipAddress: 'Replace(Join(",", [proxyAddresses]), , "^(?:.*?,)??[sS][iI][pP]:([^,]*).*$|^.*$", , "$1", , )',
} as const;

export type PresetName = keyof typeof PRESETS;
export const PRESET_NAMES = Object.keys(PRESETS) as [PresetName, ...PresetName[]];
