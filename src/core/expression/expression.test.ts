import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileExpression, ExpressionError, graphUserAttributes, type Outcome } from './index.ts';

// Entra's expression language: every example of Microsoft's "Reference for writing expressions for attribute
// mappings" (with its stated output, or with the rule where the example contradicts it), and the points issue 9 decided.

const NOW = Date.UTC(2021, 7, 25, 17, 41, 18); // 8/25/2021 5:41:18 PM
const run = (expression: string, input: Record<string, unknown> = {}, random = () => 0.5): Outcome =>
  compileExpression(expression).evaluate(graphUserAttributes(input), {
    now: () => NOW,
    random,
    uuid: () => '00aa00aa-bb11-cc22-dd33-44ee44ee44ee',
  });
const value = (expression: string, input: Record<string, unknown> = {}) => {
  const outcome = run(expression, input);
  assert.ok('value' in outcome, `${expression} was ignored`);
  return outcome.value;
};
const fails = (expression: string, pattern: RegExp, input: Record<string, unknown> = {}) =>
  assert.throws(
    () => run(expression, input),
    (e: ExpressionError) => {
      assert.ok(e instanceof ExpressionError, String(e));
      assert.match(e.message, pattern);
      return true;
    },
  );

describe("the reference's examples", () => {
  const cases: [string, Record<string, unknown>, unknown][] = [
    [
      'Append([userPrincipalName], ".test")',
      { userPrincipalName: 'John.Doe@contoso.com' },
      'John.Doe@contoso.com.test',
    ],
    ['BitAnd(&HF, &HF7)', {}, 7],
    ['CBool([attribute1] = [attribute2])', { attribute1: 'a', attribute2: 'a' }, true],
    ['CBool([attribute1] = [attribute2])', { attribute1: 'a', attribute2: 'b' }, false],
    ['CDate([StatusHireDate])', { StatusHireDate: '2020-03-16-07:00' }, '3/16/2020 7:00:00 AM'],
    ['CDate("2021-06-30+08:00")', {}, '6/29/2021 4:00:00 PM'],
    ['CDate("2009-06-15T01:45:30-07:00")', {}, '6/15/2009 8:45:30 AM'],
    [
      'Coalesce([mail],[userPrincipalName])',
      { mail: null, userPrincipalName: 'John.Doe@contoso.com' },
      'John.Doe@contoso.com',
    ],
    ['ConvertToBase64("Hello world!")', {}, 'SABlAGwAbABvACAAdwBvAHIAbABkACEA'],
    ['ConvertToUTF8Hex("Hello world!")', {}, '48656C6C6F20776F726C6421'],
    ['CStr([dn])', { dn: 'cn=Joe,dc=contoso,dc=com' }, 'cn=Joe,dc=contoso,dc=com'],
    ['DateAdd("d", 7, CDate([StatusHireDate]))', { StatusHireDate: '2012-03-16-07:00' }, '3/23/2012 7:00:00 AM'],
    ['DateAdd("d", -10, CDate([StatusHireDate]))', { StatusHireDate: '2012-03-16-07:00' }, '3/6/2012 7:00:00 AM'],
    ['DateAdd("ww", 2, CDate([StatusHireDate]))', { StatusHireDate: '2012-03-16-07:00' }, '3/30/2012 7:00:00 AM'],
    ['DateAdd("m", 10, CDate([StatusHireDate]))', { StatusHireDate: '2012-03-16-07:00' }, '1/16/2013 7:00:00 AM'],
    ['DateAdd("yyyy", 2, CDate([StatusHireDate]))', { StatusHireDate: '2012-03-16-07:00' }, '3/16/2014 7:00:00 AM'],
    ['DateDiff("d", CDate("2021-08-18+08:00"), CDate("2021-08-31+08:00"))', {}, 13],
    ['DateDiff("d", Now(), CDate([StatusHireDate]))', { StatusHireDate: '2012-03-16-07:00' }, -3449],
    ['DateDiff("ww", Now(), CDate([StatusHireDate]))', { StatusHireDate: '2012-03-16-07:00' }, -493],
    ['DateDiff("m", Now(), CDate([StatusHireDate]))', { StatusHireDate: '2012-03-16-07:00' }, -113],
    ['DateDiff("yyyy", Now(), CDate([StatusHireDate]))', { StatusHireDate: '2012-03-16-07:00' }, -9],
    ['DateDiff("d", CDate("2021-08-31+08:00"), CDate("2021-08-31+08:00"))', {}, 0],
    ['DateDiff("h", CDate("2021-08-24"), CDate("2021-08-25"))', {}, 24],
    ['DateDiff("n", CDate("2021-08-24"), CDate("2021-08-25"))', {}, 1440],
    ['DateDiff("s", CDate("2021-08-24"), CDate("2021-08-25"))', {}, 86400],
    [
      'Switch([Active], , "1", IIF(DateDiff("d", Now(), CDate([StatusHireDate])) > 5, "False", "True"), "0", "False")',
      { Active: '1', StatusHireDate: '2021-09-10' },
      'False',
    ],
    [
      'Switch([Active], , "1", IIF(DateDiff("d", Now(), CDate([StatusHireDate])) > 5, "False", "True"), "0", "False")',
      { Active: '1', StatusHireDate: '2021-08-27' },
      'True',
    ],
    ['DateFromNum(129699324000000000)', {}, '1/1/2012 11:00:00 PM'],
    [
      'FormatDateTime([extensionAttribute1], , "yyyyMMddHHmmss.fZ", "yyyy-MM-dd")',
      { onPremisesExtensionAttributes: { extensionAttribute1: '20150123105347.1Z' } },
      '2015-01-23',
    ],
    ['Guid()', {}, '00aa00aa-bb11-cc22-dd33-44ee44ee44ee'],
    ['IIF([country]="USA",[country],[department])', { country: 'USA', department: 'Sales' }, 'USA'],
    ['IIF([country]="USA",[country],[department])', { country: 'NL', department: 'Sales' }, 'Sales'],
    ['IIF([country]="USA",IIF([state]="CA","True","False"),"False")', { country: 'USA', state: 'CA' }, 'True'],
    ['IIF([country]="USA","True",IIF([state]="CA","True","False"))', { country: 'NL', state: 'CA' }, 'True'],
    ['Switch([country],[country],"","Other")', {}, 'Other'],
    ['Switch([country],[country],"","Other")', { country: 'NL' }, 'NL'],
    ['InStr("The quick brown fox","quick")', {}, 5],
    ['InStr("repEated","e",3,vbBinaryCompare)', {}, 7],
    ['IsNull([displayName])', {}, true],
    ['IsNullOrEmpty([displayName])', { displayName: '' }, true],
    [
      'Switch(IsPresent([directManager]),[directManager], "True", [directManager], "False", [skiplevelManager])',
      { skiplevelManager: 'boss' },
      'boss',
    ],
    [
      'Item([proxyAddresses], 1)',
      { proxyAddresses: ['SMTP:a@contoso.com', 'smtp:b@contoso.com'] },
      'SMTP:a@contoso.com',
    ],
    ['Left("John Doe", 3)', {}, 'Joh'],
    ['NormalizeDiacritics([givenName])', { givenName: 'Zoë' }, 'Zoe'],
    ['PCase([firstName])', { firstName: 'PABLO GONSALVES (SECOND)' }, 'Pablo Gonsalves (Second)'],
    ['PCase([lastName]," \'-")', { lastName: "PINTO-DE'SILVA" }, "Pinto-De'Silva"],
    ['PCase(Join(" ",[firstName],[lastName]))', { firstName: 'GREGORY', lastName: 'JAMES' }, 'Gregory James'],
    ['Redact([userPrincipalName])', { userPrincipalName: 'a@contoso.com' }, 'a@contoso.com'],
    [
      'Replace([BusinessTitle],"Product Developer", , , "Software Engineer", , )',
      { BusinessTitle: 'Product Developer' },
      'Software Engineer',
    ],
    ['Replace([UserID],"<username>", , , , , "<username>@contoso.com")', { UserID: 'jsmith' }, 'jsmith@contoso.com'],
    [
      'Replace([telephoneNumber], , "\\\\+(?<isdCode>\\\\d* )(?<phoneNumber>\\\\d{10})", , "${phoneNumber}", , )',
      { telephoneNumber: '+91 9998887777' },
      '9998887777',
    ],
    ['Replace([mobile], , "[()\\\\s-]+", , "", , )', { mobile: '+1 (999) 888-7777' }, '+19998887777'],
    [
      'Replace([AddressLineData], ,"(?<streetNumber>^\\\\d*)","streetNumber", "888", , )',
      { AddressLineData: '545 Tremont Street' },
      '888 Tremont Street',
    ],
    [
      'Replace([userPrincipalName], , "(?<Suffix>@(.)*)", "Suffix", "", , )',
      { userPrincipalName: 'jsmith@contoso.com' },
      'jsmith',
    ],
    [
      'Replace([telephoneNumber], , "\\\\+(?<isdCode>\\\\d* )(?<phoneNumber>\\\\d{10})", "phoneNumber" , , [mobile], )',
      { telephoneNumber: '', mobile: '+91 8887779999' },
      '8887779999',
    ],
    ['Replace([mailNickname], , "[a-zA-Z_]*", , "", , )', { mailNickname: 'john_doe72' }, '72'],
    [
      'Split([extensionAttribute5], ",")',
      { onPremisesExtensionAttributes: { extensionAttribute5: 'PermissionSetOne,PermissionSetTwo' } },
      ['PermissionSetOne', 'PermissionSetTwo'],
    ],
    [
      'Switch([state], "Australia/Sydney", "NSW", "Australia/Sydney","QLD", "Australia/Brisbane", "SA", "Australia/Adelaide")',
      { state: 'QLD' },
      'Australia/Brisbane',
    ],
    ['Switch(ToLower([statusFlag]), "0", "true", "1", "false", "0")', { statusFlag: 'TRUE' }, '1'],
    [
      'ToLower(Join("@", NormalizeDiacritics(StripSpaces(Join(".",  [PreferredFirstName], [PreferredLastName]))), "contoso.com"))',
      { PreferredFirstName: 'John', PreferredLastName: 'Smith' },
      'john.smith@contoso.com',
    ],
    ['Word("The quick brown fox",3," ")', {}, 'brown'],
    ['Word("This,string!has&many separators",3,",!&#")', {}, 'has'],
    ['Replace([mail], "@contoso.com", , ,"", ,)', { mail: 'john.doe@contoso.com' }, 'john.doe'],
    ['Append(Mid([givenName], 1, 3), Mid([surname], 1, 5))', { givenName: 'John', surname: 'Doe' }, 'JohDoe'],
    ['Join(", ", "", [surname], [givenName])', { givenName: 'John', surname: 'Doe' }, 'Doe, John'],
    [
      'NumFromDate(Join("", FormatDateTime([ContractEndDate], ,"yyyy-MM-ddzzz", "yyyy-MM-dd"), " 23:59:59-08:00"))',
      { ContractEndDate: '2020-12-31-08:00' },
      132539615990000000,
    ],
  ];
  for (const [expression, input, expected] of cases) {
    it(`${expression} → ${JSON.stringify(expected)}`, () => assert.deepEqual(value(expression, input), expected));
  }

  it('IgnoreFlowIfNullOrEmpty drops the field when the value is null or empty', () => {
    assert.deepEqual(run('IgnoreFlowIfNullOrEmpty([department])'), { ignored: true });
    assert.deepEqual(
      run('IgnoreFlowIfNullOrEmpty(Switch([prefix], "", "3443", "Dr.", "3444", "Prof.", "3445", "Prof. Dr."))', {
        prefix: '9',
      }),
      { ignored: true },
    );
    assert.deepEqual(
      run('IgnoreFlowIfNullOrEmpty(Switch([prefix], "", "3443", "Dr.", "3444", "Prof."))', { prefix: '3444' }),
      { value: 'Prof.' },
    );
  });

  it('RandomString meets its minimums and avoids what it is told to', () => {
    let seed = 1;
    const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    const a = run('RandomString(6,3,0,0,3)', {}, random) as { value: string };
    assert.equal(a.value.length, 6);
    assert.ok((a.value.match(/\d/g) ?? []).length >= 3 && (a.value.match(/[a-z]/g) ?? []).length >= 3, a.value);
    const b = run('RandomString(10,2,2,2,1,"?,")', {}, random) as { value: string };
    assert.equal(b.value.length, 10);
    assert.ok(!/[?,]/.test(b.value) && (b.value.match(/[A-Z]/g) ?? []).length >= 2, b.value);
  });

  it('Now is the UTC time in the default format; Count, RemoveDuplicates and IsString', () => {
    assert.equal(value('Now()'), '8/25/2021 5:41:18 PM');
    assert.equal(value('Count([proxyAddresses])', { proxyAddresses: ['a', 'b', 'a'] }), 3);
    assert.deepEqual(value('RemoveDuplicates([proxyAddresses])', { proxyAddresses: ['a', 'b', 'a'] }), ['a', 'b']);
    assert.equal(value('IsString([displayName])', { displayName: 'x' }), true);
    assert.equal(value('IsString([accountEnabled])', { accountEnabled: true }), false);
  });
});

describe('decisions where the reference is silent', () => {
  it('matches function and constant names case-insensitively', () => {
    assert.equal(value('switch([a], "d", "1", "one")', { a: '1' }), 'one');
    assert.equal(value('TOLOWER("AbC")'), 'abc');
    assert.equal(value('instr("ABC", "b", 1, VBTEXTCOMPARE)'), 2);
  });

  it('evaluates only the branch IIF and Switch take', () => {
    assert.equal(value('IIF([a]="1", "yes", CDate("not a date"))', { a: '1' }), 'yes');
    assert.equal(value('Switch([a], CDate("bad"), "1", "one", "2", CDate("bad"))', { a: '1' }), 'one');
    fails('IIF([a]="1", "yes", CDate("not a date"))', /CDate: expected a date, got "not a date"/, { a: '2' });
  });

  it('keeps the backslash of an unknown escape, and reads \\" and \\\\', () => {
    assert.equal(value('"a\\db"'), 'a\\db');
    assert.equal(value('"say \\"hi\\" \\\\ there"'), 'say "hi" \\ there');
  });

  it('gives numbers as JSON numbers and predicates as JSON booleans', () => {
    assert.equal(value('InStr("abc", "c")'), 3);
    assert.equal(value('IsPresent([x])', { x: 'y' }), true);
    assert.equal(value('Not("True")'), false);
    assert.equal(value('Join("", 1000, "x")'), '1000x');
  });

  it('reads dates without an offset as UTC, and shows dates as Entra does', () => {
    assert.equal(value('CDate("2021-08-24")'), '8/24/2021 12:00:00 AM');
    assert.equal(value('CDate("8/25/2021 5:41:18 PM")'), '8/25/2021 5:41:18 PM');
    assert.equal(value('DateAdd("h", 1, "2021-08-24T23:30:00Z")'), '8/25/2021 12:30:00 AM');
    assert.equal(
      value('DateAdd("m", 1, CDate("2021-01-31"))'),
      '2/28/2021 12:00:00 AM',
      'the 31st becomes the last day of February',
    );
  });

  it('DateDiff counts calendar boundaries crossed', () => {
    assert.equal(value('DateDiff("yyyy", CDate("2020-12-31T23:59:59Z"), CDate("2021-01-01T00:00:00Z"))'), 1);
    assert.equal(value('DateDiff("d", CDate("2021-08-24T23:59:00Z"), CDate("2021-08-25T00:01:00Z"))'), 1);
    assert.equal(value('DateDiff("m", CDate("2021-01-31"), CDate("2021-02-01"))'), 1);
    assert.equal(
      value('DateDiff("ww", CDate("2021-08-28"), CDate("2021-08-29"))'),
      1,
      'Saturday to Sunday crosses a week',
    );
    assert.equal(value('DateDiff("ww", CDate("2021-08-29"), CDate("2021-09-04"))'), 0, 'Sunday to Saturday does not');
  });

  it('a comparison with a null side is false', () => {
    // The reference's own warning: IIF([country]="","Other",[country]) does not catch an empty country; Switch does.
    assert.equal(value('IIF([country]="","Other",[country])'), null);
    assert.equal(value('IIF([country]<>"x","y","z")'), 'z');
    assert.equal(value('Switch([country],[country],"","Other")'), 'Other');
  });

  it('reads [objectId], extension attributes and schema extensions from a Graph user', () => {
    const user = {
      id: 'abc',
      onPremisesExtensionAttributes: { extensionAttribute3: 'cost-1' },
      extension_0a1b_costCenter: 'CC7',
      Mail: 'x@y',
    };
    assert.equal(value('[objectId]', user), 'abc');
    assert.equal(value('[extensionAttribute3]', user), 'cost-1');
    assert.equal(value('[extension_0a1b_costCenter]', user), 'CC7');
    assert.equal(value('[mail]', user), 'x@y', 'attribute names match case-insensitively');
    assert.deepEqual(compileExpression('Join(" ", [givenName], Coalesce([mail], [upn]))').attributes, [
      'givenName',
      'mail',
      'upn',
    ]);
  });

  it('transforming a null source gives null, so Coalesce and IgnoreFlowIfNullOrEmpty still apply', () => {
    assert.equal(value('ToLower([mail])'), null);
    assert.equal(value('Coalesce(ToLower([mail]), "none")'), 'none');
    assert.equal(value('Left([x], 2)'), '');
    assert.equal(value('Word([x], 1, " ")'), '');
  });

  it('the claims account, the OneDrive path and proxyAddresses presets in the language', () => {
    const user = {
      userPrincipalName: 'First.Last@Contoso.com',
      proxyAddresses: ['smtp:alias@contoso.com', 'SMTP:first.last@contoso.com', 'SIP:first.last@contoso.com'],
    };
    assert.equal(
      value('Join("", "i:0#.f|membership|", ToLower([userPrincipalName]))', user),
      'i:0#.f|membership|first.last@contoso.com',
    );
    assert.equal(
      value(
        'Join("", "/", Replace(Replace(ToLower([userPrincipalName]), , "[.@]", , "_", , ), , "$", , "/", , ))',
        user,
      ),
      '/first_last_contoso_com/',
    );
    assert.equal(
      value('Replace(Join(",", [proxyAddresses]), , "(^|.*,)SMTP:([^,]*).*", , "$2", , )', user),
      'first.last@contoso.com',
    );
    assert.equal(value('Replace([userPrincipalName], , "(?<Suffix>@(.)*)", "Suffix", "", , )', user), 'First.Last');
  });
});

describe('errors name the place and the fix', () => {
  it('syntax', () => {
    fails('Join(" ", [a]', /a comma or \) was expected in Join\(…\) at character 14: close Join\( with \)/);
    fails('Join(" ", [a)', /an attribute is not closed at character 11: end it with \]/);
    fails('"abc', /a string is not closed at character 1/);
    fails(
      'ToLower(mail)',
      /"mail" is neither a function call nor an attribute at character 9: write an attribute in brackets \(\[mail\]\)/,
    );
    fails('[a] [b]', /unexpected "\[" after the end of the expression at character 5/);
    fails('', /the expression is empty at character 1/);
  });

  it('unknown functions, with the closest name', () => {
    fails('Joinn(",", [a])', /unknown function "Joinn" at character 1: did you mean "Join"\?/);
    fails('Frobnicate([a])', /unknown function "Frobnicate" at character 1: docs\/mapping\.md lists every function/);
  });

  it('argument counts, checked when compiling', () => {
    assert.throws(() => compileExpression('Left("abc")'), /Left takes 2 arguments, got 1 at character 1/);
    assert.throws(
      () => compileExpression('Replace([a], "x", "y")'),
      /Replace takes 7 arguments, got 3 at character 1: Replace\(source, oldValue/,
    );
    assert.throws(
      () => compileExpression('Switch([a], "d", "k")'),
      /Switch takes its keys and values in pairs, got 3 arguments/,
    );
    assert.throws(() => compileExpression('Coalesce()'), /Coalesce takes at least 1 argument/);
  });

  it('values, at the argument that holds them', () => {
    fails('CDate([hire])', /CDate: expected a date, got "soon" at character 7: write dates as 2021-08-25/, {
      hire: 'soon',
    });
    fails('Left([a], "x")', /Left: expected a number, got "x" at character 11/, { a: 'abc' });
    fails(
      'ToLower([proxyAddresses])',
      /ToLower: this argument holds several values where one was expected at character 9: pick one with Item/,
      { proxyAddresses: ['a', 'b'] },
    );
    fails('DateAdd("days", 1, Now())', /DateAdd: unknown interval "days" at character 9/);
    fails('Replace([a], , "(", , "", , )', /Replace: invalid regular expression/, { a: 'x' });
    fails(
      'Replace([a], , "(?<Suffix>@.*)", "suffix", "", , )',
      /Replace: the pattern has no group named "suffix" at character 34: its groups are Suffix/,
      { a: 'x@y' },
    );
    fails(
      'FormatDateTime([d], , "yyyyMMdd", "yyyy")',
      /FormatDateTime: "2021-01-01" does not match the input format "yyyyMMdd"/,
      { d: '2021-01-01' },
    );
    fails('IIF([a], "y", "n")', /IIF: expected True or False, got "maybe"/, { a: 'maybe' });
  });
});
