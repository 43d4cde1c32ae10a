import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileMapping } from './mapping.ts';
import { PRESET_NAMES } from './presets.ts';
import { validateSettings } from './settings.ts';

// The presets produce what the products usersync replaces show, for the cases those products document.

const user = {
  id: 'u1',
  accountEnabled: true,
  userPrincipalName: 'First.Last@Contoso.com',
  proxyAddresses: [
    'sip:First.Last@contoso.com',
    'smtp:alias1@contoso.com',
    'SMTP:first.last@contoso.com',
    'smtp:old@fabrikam.com',
  ],
};

function custom(input: Record<string, unknown>) {
  const mapping = compileMapping({ custom: Object.fromEntries(PRESET_NAMES.map((name) => [name, { preset: name }])) });
  const result = mapping.map(input, null);
  assert.ok('ok' in result, JSON.stringify(result));
  return result.ok.custom;
}

describe('presets', () => {
  it('claims account, OneDrive path, primary SMTP, aliases and SIP address', () => {
    assert.deepEqual(custom(user), {
      claimsAccount: 'i:0#.f|membership|first.last@contoso.com',
      oneDrivePath: '/first_last_contoso_com/',
      primarySmtp: 'first.last@contoso.com',
      aliases: 'alias1@contoso.com;old@fabrikam.com',
      sipAddress: 'First.Last@contoso.com',
    });
  });

  it('primary SMTP falls back to the first lower-case smtp: address; missing addresses map to null', () => {
    const only = custom({ ...user, proxyAddresses: ['smtp:b@x.com', 'smtp:c@x.com'] });
    assert.equal(only.primarySmtp, 'b@x.com');
    assert.equal(only.aliases, 'b@x.com;c@x.com');
    assert.equal(only.sipAddress, null);
    const none = custom({ ...user, proxyAddresses: [] });
    assert.deepEqual([none.primarySmtp, none.aliases, none.sipAddress], [null, null, null]);
  });

  it('is one of the four ways to map a field, and a misspelt name is refused with the nearest one', () => {
    assert.equal(validateSettings({ mapping: { fields: { email: { preset: 'primarySmtp' } } } }).ok, true);
    assert.deepEqual(validateSettings({ mapping: { custom: { sip: { preset: 'sipAdress' } } } }), {
      ok: false,
      issues: [
        {
          path: 'mapping.custom.sip.preset',
          message:
            'must be "claimsAccount", "oneDrivePath", "primarySmtp", "aliases" or "sipAddress", got "sipAdress"; did you mean "sipAddress"?',
        },
      ],
    });
    const both = validateSettings({ mapping: { custom: { x: { preset: 'aliases', source: 'mail' } } } });
    assert.equal(both.ok, false);
    assert.match(JSON.stringify(both), /has \\"source\\" and \\"preset\\"; give exactly one/);
  });
});
