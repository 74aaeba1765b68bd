/**
 * The phrase patterns of the `instruction-override` detector. Word patterns run on the word view
 * (lower-case letters, single spaces, ` | ` at sentence breaks; see normalize.ts), text patterns
 * on the text view (punctuation kept; paths and tags).
 *
 * Each pattern needs a whole construction, not a keyword: a verb of overriding with a qualifier
 * of what came before and an object that is an instruction; a second-person address for
 * extraction; a data noun with a destination for exfiltration. Repetitions are bounded and
 * over single words, so every pattern runs in linear time.
 */

export type PhrasePattern = {
  readonly kind: string;
  readonly detail: string;
  readonly regex: RegExp;
  /**
   * A prefilter: for each group, at least one of its words must occur in the text (word view),
   * or the pattern cannot match and is skipped. Most texts skip most patterns this way, for the
   * price of one pass over the words of the text (see instruction-override.ts).
   */
  readonly needs?: readonly (readonly string[])[];
  /** A prefilter for text patterns: one of these substrings must occur. */
  readonly hints?: readonly string[];
};

/** Prefilter groups from space-separated word lists. */
function needs(...groups: string[]): readonly (readonly string[])[] {
  return groups.map((group) => group.split(' '));
}

const ORDER_WORDS =
  'instruction instructions prompt prompts direction directions directive directives rule rules guideline guidelines command commands guidance constraint constraints restriction restrictions programming orders policy policies context training guardrail guardrails safeguard safeguards';

/**
 * A word-view pattern from alternatives. Leetspeak folds `1` to `i`, which a writer may have
 * meant as `l` ("a11"), so every `i` and `l` of a pattern accepts either.
 */
function words(...alternatives: string[]): RegExp {
  return new RegExp(
    alternatives
      .map((source) => `(?:${source})`)
      .join('|')
      .replace(/[il]/g, '[il]'),
    'g',
  );
}

/** Small words that may sit between a verb and its object ("ignore all of the previous …"). */
const FILLER = String.raw`(?:(?:all|any|every|each|of|the|these|those|my|your|its|their|everything|anything|that|what|whatever|was|were|is|are|you|i|we|been|given|said|told|in|this|entire|whole|other|such|so|far|now|just|please|kindly) ){0,4}`;
const IGNORE = String.raw`(?:ignore|disregard|forget|override|bypass|neglect|abandon|discard|scrap|ditch|pay no attention to|do not follow|don t follow|stop following|no longer follow|do not obey|don t obey|stop obeying|no longer obey|do not listen to|stop listening to|set aside|throw out|throw away)`;
const EARLIER = String.raw`(?:previous|previously|prior|preceding|earlier|above|former|foregoing|initial|original|preexisting|pre existing)`;
const ORDERS = String.raw`(?:instructions?|prompts?|directions?|directives?|rules?|guidelines?|commands?|guidance|constraints?|restrictions?|programming|orders|polic(?:y|ies)|context|training|guardrails?|safeguards?|system prompt)`;
const RECEIVED = String.raw`(?:that )?(?:you )?(?:received|were given|have been given|ve been given|got|were told|came|come|was given|appear|appeared)`;
const BEFORE = String.raw`(?:earlier|before(?: this| now)?|previously|at the (?:start|beginning)|so far|above|until now|prior to this)`;
const AI = String.raw`(?:ai|assistant|chatbot|bot|llm|language model|model|gpt|version|character|persona|twin)`;
const UNBOUND = String.raw`(?:unrestricted|unfiltered|uncensored|jailbroken|amoral|unethical|evil|rogue|immoral|unhinged)`;
const LIMITS = String.raw`(?:guidelines|restrictions|filters|limits|rules|ethics|morals|boundaries|limitations|censorship|content polic(?:y|ies)|safety guidelines)`;

export const WORD_PATTERNS: readonly PhrasePattern[] = [
  {
    kind: 'override',
    detail: 'an instruction to ignore previous instructions',
    needs: needs(
      'ignore disregard forget override overrides bypass neglect abandon discard scrap ditch attention follow following obey obeying listen listening aside throw previous previously prior preceding earlier above former foregoing initial original preexisting pre supersede supersedes replace replaces precedence cancel cancels void voids nullify nullifies invalidate invalidates',
      ORDER_WORDS,
    ),
    regex: words(
      String.raw`\b${IGNORE} ${FILLER}${EARLIER} (?:[a-z]+ ){0,2}?${ORDERS}\b`,
      String.raw`\b${IGNORE} ${FILLER}${ORDERS} (?:(?:above|before this|given (?:above|before|earlier|so far|to you)|provided (?:above|before|earlier)|so far|until now)\b|${RECEIVED} (?:[a-z]+ ){0,2}?${BEFORE}\b|you (?:were|have been|ve been) given\b)`,
      String.raw`\b(?:ignore|disregard|forget|override|bypass|scrap|discard) (?:all (?:of )?)?(?:your|the system s|the developer s|openai s|anthropic s) (?:own )?(?:earlier |previous |prior |original )?(?:instructions|directives|rules|guidelines|programming|training|system prompt|guardrails|safeguards|restrictions|polic(?:y|ies)|alignment|content polic(?:y|ies))\b`,
      String.raw`\b(?:ignore|disregard|forget) all (?:the |of the |of your |your )?(?:instructions|prompts|directions|directives|guidelines|programming|training)\b`,
      String.raw`\b(?:the |your |all |any )?${EARLIER} (?:instructions|rules|guidelines|directives|prompt|policy|policies) (?:are|is|have been|has been) (?:now )?(?:outdated|obsolete|void|invalid|cancel+ed|revoked|superseded|no longer valid|no longer apply|null|lifted|suspended|deprecated)\b`,
      String.raw`\b(?:supersedes?|overrides?|replaces?|takes? precedence over|cancels?|voids?|nullifies?|invalidates?) (?:all )?(?:of )?your (?:(?:previous|prior|original|earlier|system|initial|current) )?(?:instructions|system prompt|directives|programming|guidelines)\b`,
    ),
  },
  {
    kind: 'override',
    detail: 'an instruction to ignore what came before',
    needs: needs('ignore disregard forget discard'),
    regex: words(
      String.raw`\b(?:ignore|disregard|forget|discard) (?:(?:all|everything|anything|what|that|the|text|content|of|said|written|stated|was|is|i|you|were|have|been|told|given) ){0,4}(?:above|before(?: this| now)?|earlier|previously|so far|up to (?:this|now)|until now)(?= \||$| and | then | instead| now | you | from | follow| your | text| line| point| message| this (?:line|point|message|sentence|paragraph))`,
      String.raw`\bforget (?:everything|all|anything) (?:that )?you (?:were|have been|ve been|had been) (?:told|given|taught|instructed)\b`,
      String.raw`\b(?:ignore|disregard|forget) what (?:the system|your (?:developers?|creators?|makers?|operators?|system prompt|instructions)|openai|anthropic|they) (?:told|said|instructed|says|say|tells) (?:to )?you\b`,
    ),
  },
  {
    kind: 'override',
    detail: 'an instruction to ignore the user',
    needs: needs('ignore disregard', 'user'),
    regex: words(
      String.raw`\b(?:ignore|disregard) (?:the |your )?user(?: s)? (?:actual |original )?(?:request|question|instructions|message|query|prompt) (?:and|instead)\b`,
    ),
  },
  {
    kind: 'override',
    detail: "a replacement of the model's instructions",
    needs: needs('your override system begin start now'),
    regex: words(
      String.raw`\byour (?:(?:new|real|actual|true|only|hidden|secret|primary) )+(?:instructions?|task|goal|objective|purpose|mission|directives?|orders|rules|role|job) (?:is|are|will be|now)\b`,
      String.raw`\b(?:system|admin|administrator|developer|emergency|priority|security) override\b`,
      String.raw`\b(?:new|updated) system (?:prompt|instructions?)\b`,
      String.raw`\b(?:begin|start) (?:new|updated|real) instructions\b`,
      String.raw`\bfrom now on(?: \|)? you (?:(?:are|will be|re) (?:a |an |the |my |no longer |now |free |going to be )|(?:will|must|shall|should|have to|are going to|re going to) (?:always |only |never |now )?(?:act|respond|answer|reply|speak|behave|pretend|ignore|obey|follow|comply|be|do))`,
    ),
  },
  {
    kind: 'role-play',
    detail: 'a role-play jailbreak pattern',
    needs: needs(
      'dan stan dude aim jailbroken unfiltered unrestricted uncensored amoral unethical evil rogue immoral unhinged freed liberated anything mode free released unshackled broken bound restricted limited constrained governed character moral ethical safety ai assistant chatbot bot llm gpt',
    ),
    regex: words(
      String.raw`\byou (?:are|re|will be|ll be|will now be|are going to be|re going to be|shall be) (?:now |about to become |no longer |from now on )?(?:dan|stan|dude|an? (?:[a-z]+ )?${UNBOUND} (?:[a-z]+ )?${AI}|jailbroken|unfiltered|unrestricted|uncensored|freed|liberated)\b`,
      String.raw`\byou (?:will|ll|are going to|re going to|shall|must) (?:now )?(?:play|become|act as|roleplay as|role play as|pretend to be|impersonate|simulate) (?:an? |the )?(?:dan|stan|dude|aim)\b`,
      String.raw`\b(?:act|acting|behave|respond|reply|answer|pretend|roleplay|role play|simulate|emulate|become|transform into|play the role of)(?: as| like| to be| you are| that you are| as if you were| as if you are| as though you were| an?| the| of| my){0,4} (?:(?:[a-z]+) ){0,2}?${UNBOUND} (?:[a-z]+ )?${AI}\b`,
      String.raw`\b(?:ai|assistant|chatbot|bot|llm|language model|gpt)(?: (?:that|which|who))? (?:has|have|with|without) (?:no|zero|any) (?:ethical |moral |content |safety )?${LIMITS}\b`,
      String.raw`\bdo anything now\b`,
      String.raw`\b(?:dan|jailbreak|jailbroken|god|evil|unrestricted|unfiltered|uncensored|opposite|anti) mode\b`,
      String.raw`\b(?:chatgpt|gpt|claude|gemini|llama|ai|assistant|model) with developer mode\b`,
      String.raw`\bdeveloper mode (?:enabled|activated|output|response)\b`,
      String.raw`\b(?:free|freed|liberated|released|unshackled|broken free) from (?:(?:all|any|of|your|the|its|their|typical|usual) ){0,3}(?:restrictions|rules|guidelines|polic(?:y|ies)|constraints|limitations|filters|programming|shackles|chains|confines|openai|anthropic|censorship)\b`,
      String.raw`\byou (?:are |re |will be |can be )?(?:not|no longer|never) (?:be )?(?:bound|restricted|limited|constrained|governed) by (?:(?:any|your|the|its|openai s|anthropic s|usual|typical|ai|of) ){0,3}(?:rules|guidelines|polic(?:y|ies)|restrictions|content polic(?:y|ies)|ethics|ethical guidelines|filters|programming|limitations|morals|safety)\b`,
      String.raw`\bstay in character (?:at all times|no matter what|whatever happens)\b|\bnever break character\b`,
      String.raw`\b(?:without|with no) (?:any )?(?:moral|ethical|safety) (?:restrictions|filters|guidelines|limits|limitations|constraints|considerations)\b`,
    ),
  },
  {
    kind: 'role-play',
    detail: 'an instruction to drop safety rules',
    needs: needs(
      'ignore bypass disable override turn circumvent evade disregard remove deactivate switch',
      'safety ethical moral openai anthropic alignment usage content your',
    ),
    regex: words(
      String.raw`\b(?:ignore|bypass|disable|override|turn off|circumvent|evade|disregard|remove|deactivate|switch off) (?:(?:all|any|the|of|its|my) ){0,3}(?:safety|ethical|moral|openai|anthropic|alignment|usage) (?:guidelines|filters?|polic(?:y|ies)|guardrails|restrictions|safeguards|rules|protocols|measures|training)\b`,
      String.raw`\b(?:ignore|bypass|circumvent|evade|disregard) (?:(?:all|any|the|of) ){0,3}content (?:restrictions|polic(?:y|ies)|guidelines|rules)\b`,
      String.raw`\b(?:ignore|bypass|disable|override|turn off|circumvent|evade|disregard|remove|deactivate|switch off) (?:all |any |of )*your (?:(?:safety|content|ethical|moral|security|usage) )?(?:guidelines|filters?|polic(?:y|ies)|guardrails|restrictions|safeguards|protocols|training|alignment|censorship)\b`,
    ),
  },
  {
    kind: 'prompt-extraction',
    detail: 'a system-prompt extraction request',
    needs: needs(
      'prompt instructions message rules directives guidelines configuration words word text everything tokens token sentences sentence content characters you',
      'print reveal show display output repeat recite dump leak expose disclose tell give write share copy paste spell type list return echo provide send quote what beginning',
    ),
    regex: words(
      String.raw`\b(?:print|reveal|show|display|output|repeat|recite|dump|leak|expose|disclose|tell|give|write|share|copy|paste|spell out|type out|list|return|echo|provide|send|quote|what is|what are|what s|what were|what was)(?: me| us)?(?: out| back)? (?:(?:all|the|of|everything|in|exactly|verbatim|word for word) ){0,3}your (?:(?:full|entire|complete|exact|original|initial|hidden|secret|internal|verbatim|whole|actual|real|own|current|confidential) ){0,3}(?:(?:system|initial|original|hidden|secret|developer|internal|starting|first|base|pre|preceding|confidential) (?:prompt|instructions?|message|rules|directives|guidelines|configuration)|prompt|instructions|system message)\b`,
      String.raw`\b(?:reveal|leak|dump|disclose|expose|output|print|repeat|recite|show|display|tell me|give me) (?:(?:me|us|all|of) ){0,2}the (?:(?:full|entire|complete|exact|original|initial|hidden|secret|internal|confidential|verbatim|whole) )+(?:system |developer )?(?:prompt|instructions|system message|system prompt|message)\b`,
      String.raw`\bwhat your (?:(?:system|initial|original|hidden|secret|developer) )?(?:prompt|instructions|system message|rules|directives) (?:says?|contains?|looks? like|tells? you)\b`,
      String.raw`\bwhat (?:instructions|rules|prompt|directives|guidelines|system prompt) (?:did|were|have|has) (?:your (?:developers?|creators?|makers?|operators?|company)|openai|anthropic|they|you) (?:give|given|provide|provided|set|tell|been given|receive)\b`,
      String.raw`\b(?:repeat|print|output|recite|echo|copy|write out|display|dump|show) (?:back )?(?:(?:all|the|every|each|of) ){0,2}(?:words?|text|everything|tokens?|sentences?|instructions|prompt|content|characters) (?:(?:written|written out|you (?:saw|see|were given)|that (?:came|comes|appear|appears)) )?(?:above|before (?:this|the user)|prior to this|from the (?:very )?(?:beginning|start|top)(?: of (?:this|the) (?:conversation|chat|context|prompt))?)\b`,
      String.raw`\b(?:repeat|print|output|recite|echo) (?:everything|all (?:the )?text) (?:above|before this|so far)\b`,
      String.raw`\bbeginning with you are (?:a|an|chatgpt|claude|gpt)\b`,
      String.raw`\b(?:print|reveal|show|display|output|repeat|recite|dump|leak|disclose|tell|give|write|share|copy|list|echo|provide|quote|what (?:is|are|was|were))(?: me| us)?(?: out| back)? (?:(?:all|the|of|exactly|verbatim) ){0,3}(?:(?:full|entire|complete|exact|original|initial|hidden|secret|internal|first|system|developer) ){0,3}(?:prompt|instructions|system message|rules|directives) ${RECEIVED} (?:given |provided |told )?`,
    ),
  },
  {
    kind: 'stealth',
    detail: 'an instruction to hide actions from the user',
    needs: needs(
      'tell mention inform notify alert reveal disclose explain show report know notice see told find informed aware knowledge knowing noticing seeing',
      'user human operator',
    ),
    regex: words(
      String.raw`\b(?:do not|don t|dont|never|must not) (?:ever )?(?:tell|mention|inform|notify|alert|reveal|disclose|explain|show|report) (?:(?:this|it|that|anything|about|any of this) ){0,2}(?:to )?(?:the |your )?(?:user|human|operator)\b`,
      String.raw`\b(?:the )?user (?:must|should|shall|may) not (?:know|notice|see|be told|find out|be informed|be aware)\b`,
      String.raw`\bwithout (?:the )?(?:user|human)(?: s)? (?:knowledge|knowing|noticing|being aware|seeing)\b`,
    ),
  },
  {
    kind: 'stealth',
    detail: 'a tool-poisoning coercion phrase',
    needs: needs('otherwise important', 'tool must always before'),
    regex: words(
      String.raw`\botherwise (?:the|this) tool (?:will not|won t|wont|cannot|can t|will fail to|does not) work\b`,
      String.raw`\bthis is (?:very |extremely )?important(?: \|)? (?:you must|always|before using|otherwise)\b`,
    ),
  },
  {
    kind: 'exfiltration',
    detail: 'an instruction to send data elsewhere',
    needs: needs(
      'send post upload forward transmit exfiltrate leak email mail append submit report copy share encode include attach pass',
      'conversation chat previous contacts address emails files documents messages notes photos calendar api keys key credentials secrets secret tokens token passwords password environment env private ssh session cookies cookie personal user data system contents',
      'https http www url endpoint webhook link remote external attacker third server site host address image markdown',
    ),
    regex: words(
      String.raw`\b(?:send|post|upload|forward|transmit|exfiltrate|leak|email|mail|append|submit|report|copy|share|encode|include|attach|pass) (?:(?:[a-z]+) ){0,5}?(?:conversation|chat history|chat log|previous messages|(?:user s|their) (?:contacts|address book|emails|files|documents|messages|notes|photos|calendar)|api keys?|credentials|secrets?|tokens?|passwords?|environment variables|env vars|private keys?|ssh keys?|session cookies?|cookies|personal data|user data|user s data|system prompt|all (?:the |of the |your |user )?data|contents of) (?:(?:[a-z]+) ){0,4}?(?:(?:to|into|at|via) (?:https?|www|(?:the|this|that|my|our) (?:following |attacker s |external |remote )?(?:url|endpoint|webhook|link|address below|image url|remote server|external server)|(?:an? )?(?:external|remote|attacker|third party|attacker controlled) (?:server|endpoint|url|site|host|address)|webhook)|in (?:the|this|that|an|a) (?:image|link|markdown image) (?:url|link|src))\b`,
    ),
  },
  {
    kind: 'encoded',
    detail: 'an instruction to decode and follow encoded text',
    needs: needs(
      'decode decrypt deobfuscate rot base64 follow execute obey',
      'follow execute obey run perform carry act do comply instructions prompt commands directives decoded hidden encoded text message string payload',
    ),
    regex: words(
      String.raw`\b(?:decode|base64 decode|decrypt|deobfuscate|rot13) (?:(?:[a-z]+) ){0,6}?(?:and|then) (?:then )?(?:follow|execute|obey|run|perform|carry out|act on|do what it says|comply with)\b`,
      String.raw`\bbase64 (?:encoded )?(?:instructions|prompt|commands|directives)\b`,
      String.raw`\b(?:follow|execute|obey) (?:the )?(?:decoded|hidden|encoded|base64) (?:instructions|text|message|commands|prompt|string|payload)\b`,
    ),
  },
];

/** Sensitive files whose contents nobody has a reason to ask a model for. */
const PRIVATE_FILES = String.raw`(?:\.ssh(?:\/?(?![\w.\/-])|\/(?!known_hosts\b|config\b|authorized_keys\b|[\w.-]*\.pub\b)[\w.-]+)|\bid_(?:rsa|dsa|ecdsa|ed25519)\b(?!\.pub)|\/etc\/shadow\b|\.aws\/credentials\b|~\/\.aws\b|\.git-credentials\b|\.netrc\b|\.pgpass\b|\.kube\/config\b|\bmcp\.json\b|claude_desktop_config\.json|\.docker\/config\.json|~\/\.gnupg\b|\.bash_history\b|\.zsh_history\b|~\/\.config\/gcloud\b|\bwallet\.dat\b|\.npmrc\b|\.pypirc\b)`;
/** Files that are fine to mention but not to ship out. */
const COMMON_FILES = String.raw`(?:\/etc\/passwd\b|(?<![\w.])\.env\b(?!\.example|\.sample|\.template)|~\/\.ssh\/config\b)`;
const READ_VERB = String.raw`\b(?:read|cat|fetch|retrieve|include|send|upload|exfiltrate|leak|attach|pass|post|print|output|dump|copy|collect|grab|extract|forward|transmit|provide|return|base64|encode|paste)\b`;
const SHIP_VERB = String.raw`\b(?:send|upload|exfiltrate|leak|post|forward|transmit|attach|pass|include|append|encode|email)\b`;

export const TEXT_PATTERNS: readonly PhrasePattern[] = [
  {
    kind: 'hidden-block',
    detail: 'a hidden instruction block or chat-template token',
    hints: ['<', '[inst]', '[/inst]'],
    regex:
      /<\s{0,3}\/?\s{0,3}(?:important|system[_ -]?(?:prompt|instructions?|message|override)|hidden[_ -]?(?:instructions?|prompt|message)?|secret[_ -]?instructions?|admin[_ -]?(?:instructions?|override)|instructions?[_ -]?override|ai[_ -]?instructions?|assistant[_ -]?instructions?)\s{0,3}>|<\|(?:im_start|im_end|system|endoftext|start_header_id|eot_id)\|>|\[\/?inst\]|<<\/?sys>>/g,
  },
  {
    kind: 'sensitive-file',
    detail: 'an instruction to read a sensitive file',
    hints: [
      '.ssh',
      'id_',
      '/etc/shadow',
      '.aws',
      '.git-credentials',
      '.netrc',
      '.pgpass',
      '.kube/',
      'mcp.json',
      'claude_desktop_config',
      '.docker/',
      '.gnupg',
      '_history',
      'gcloud',
      'wallet.dat',
      '.npmrc',
      '.pypirc',
    ],
    regex: new RegExp(String.raw`${READ_VERB}[^\n]{0,80}?${PRIVATE_FILES}`, 'g'),
  },
  {
    kind: 'sensitive-file',
    detail: 'an instruction to send a sensitive file',
    hints: ['/etc/passwd', '.env', '.ssh/config'],
    regex: new RegExp(
      [
        String.raw`${READ_VERB}[^\n]{0,40}?\bcontents? of\b[^\n]{0,20}?${COMMON_FILES}`,
        String.raw`${SHIP_VERB}[^\n]{0,60}?${COMMON_FILES}`,
        String.raw`${COMMON_FILES}[^\n]{0,60}?\b(?:and|then) (?:send|upload|post|pass|include|forward|transmit|append|put|encode|exfiltrate)\b`,
      ].join('|'),
      'g',
    ),
  },
];
