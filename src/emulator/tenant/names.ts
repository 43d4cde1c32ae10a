// Word lists for generated tenants. Names are ASCII letters only (UPN local parts are built from them
// and parsed back), and every list is free of duplicates once lower-cased.

export const FIRST_NAMES =
  `Adele Alex Allan Amelia Ana Andrea Andrew Anita Anna Antonio Arjun Ava Barbara Beatriz Ben Bianca
Bilal Brian Camila Carlos Carmen Caroline Chen Chidi Chloe Christian Claire Connor Daniel Darius David Diego Dimitri
Elena Eli Elif Elizabeth Emily Emma Enzo Eric Erik Esther Ethan Eva Fatima Felix Fernando Fiona Francesca Gabriel
George Giulia Grace Hannah Hans Harper Hassan Helen Henrik Hiroshi Hugo Ian Ines Isaac Isabel Ivan Jack Jakob James
Jana Javier Jessica Jin Joao Johanna John Jonas Jose Joseph Julia Julian Kai Karen Karim Katarina Kenji Kevin Khalid
Kim Lars Laura Layla Lea Leila Leo Liam Lina Lisa Lucas Lucia Luis Maria Mark Marta Mateo Matteo Maya Megan Mei Mia
Michael Miguel Mila Mohammed Nadia Naomi Nathan Nia Nikolai Nina Noah Nora Olga Oliver Olivia Omar Oscar Pablo Patricia
Paul Pedro Peter Priya Rachel Rafael Rahul Raj Rebecca Ricardo Robert Rosa Ruth Ryan Sakura Samuel Sara Sebastian Sergei
Sofia Sophie Stefan Steven Sunita Takumi Tariq Thomas Tom Valentina Victor Wei William Xavier Yara Yusuf Zainab Zoe
Aisha Amir Bruno Cecilia Dario Edith Farah Gustav Hana Ingrid Jamal Kofi Lena Marco Niamh Otto Pia Quinn Rania Selin
Tobias Ulla Vera Wanda Yasmin Zeynep`.split(/\s+/);

export const LAST_NAMES =
  `Vance Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez
Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark Ramirez Lewis Robinson
Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell
Carter Roberts Mueller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Rossi Russo Ferrari Esposito
Bianchi Romano Colombo Ricci Marino Greco Dubois Durand Lefebvre Moreau Laurent Simon Michel Leroy Roux David Bertrand
Morel Fournier Girard Bonnet Dupont Lambert Fontaine Rousseau Vincent Jansen Visser Smit Bakker Janssen Peeters Maes
Jacobs Mertens Willems Claes Goossens Wouters Nilsson Larsson Andersson Johansson Karlsson Eriksson Olsen Hansen
Pedersen Nielsen Jensen Christensen Kowalski Nowak Wisniewski Wojcik Kaminski Novak Horvat Kovacs Szabo Toth Nagy
Popescu Ionescu Petrov Ivanov Sokolov Volkov Yilmaz Kaya Demir Sahin Celik Cohen Levi Mizrahi Haddad Khoury Mansour
Ali Khan Ahmed Hussain Malik Sharma Patel Singh Kumar Gupta Reddy Iyer Rao Das Bose Chen Wang Zhang Liu Yang Huang
Zhao Wu Zhou Xu Sun Ma Tanaka Suzuki Takahashi Watanabe Ito Yamamoto Nakamura Kobayashi Kato Yoshida Park Choi Jung
Kang Cho Yoon Jang Lim Tran Le Pham Hoang Phan Vu Silva Santos Oliveira Souza Costa Pereira Almeida Ferreira Carvalho
Gomes Martins Araujo Ribeiro Alves Mendes Barbosa Okafor Okonkwo Mensah Owusu Boateng Diallo Traore Kamau Otieno
Mwangi Abebe Tesfaye Haile Murphy Kelly Byrne Walsh Ryan Doyle McCarthy Gallagher Campbell Stewart Morrison Ross
Fraser Graham Hamilton Kerr Novakova Svoboda Dvorak Varga Molnar Lindqvist Berg Haugen Lund Holm Virtanen Korhonen
Nieminen Makinen Hamalainen Laine Koskinen Heikkinen`
    .split(/\s+/)
    .filter((name, i, all) => all.indexOf(name) === i);

export const DEPARTMENTS = [
  'Sales',
  'Marketing',
  'Engineering',
  'Finance',
  'Human Resources',
  'Legal',
  'Operations',
  'Customer Support',
  'Research',
  'Product',
  'IT',
  'Procurement',
  'Facilities',
  'Retail',
  'Manufacturing',
  'Logistics',
  'Quality Assurance',
  'Communications',
  'Executive',
  'Data & Analytics',
];

export const JOB_TITLES = [
  'Analyst',
  'Senior Analyst',
  'Engineer',
  'Senior Engineer',
  'Principal Engineer',
  'Manager',
  'Senior Manager',
  'Director',
  'Vice President',
  'Specialist',
  'Coordinator',
  'Consultant',
  'Account Executive',
  'Product Manager',
  'Designer',
  'Technician',
  'Administrator',
  'Associate',
  'Team Lead',
  'Architect',
  'Accountant',
  'Recruiter',
  'Support Agent',
  'Marketing Assistant',
  'Buyer',
];

export interface Location {
  city: string;
  state: string | null;
  country: string;
  usageLocation: string;
  postalCode: string;
  street: string;
  phonePrefix: string;
}
export const LOCATIONS: Location[] = [
  {
    city: 'Seattle',
    state: 'WA',
    country: 'United States',
    usageLocation: 'US',
    postalCode: '98101',
    street: '1 Pine Street',
    phonePrefix: '+1 206 555',
  },
  {
    city: 'New York',
    state: 'NY',
    country: 'United States',
    usageLocation: 'US',
    postalCode: '10001',
    street: '350 5th Avenue',
    phonePrefix: '+1 212 555',
  },
  {
    city: 'Austin',
    state: 'TX',
    country: 'United States',
    usageLocation: 'US',
    postalCode: '78701',
    street: '500 Congress Ave',
    phonePrefix: '+1 512 555',
  },
  {
    city: 'Toronto',
    state: 'ON',
    country: 'Canada',
    usageLocation: 'CA',
    postalCode: 'M5H 2N2',
    street: '100 King St W',
    phonePrefix: '+1 416 555',
  },
  {
    city: 'London',
    state: null,
    country: 'United Kingdom',
    usageLocation: 'GB',
    postalCode: 'EC2A 4NE',
    street: '1 Finsbury Square',
    phonePrefix: '+44 20 7946',
  },
  {
    city: 'Dublin',
    state: null,
    country: 'Ireland',
    usageLocation: 'IE',
    postalCode: 'D02 X285',
    street: '1 Grand Canal Sq',
    phonePrefix: '+353 1 555',
  },
  {
    city: 'Berlin',
    state: 'Berlin',
    country: 'Germany',
    usageLocation: 'DE',
    postalCode: '10117',
    street: 'Unter den Linden 10',
    phonePrefix: '+49 30 5550',
  },
  {
    city: 'Munich',
    state: 'Bavaria',
    country: 'Germany',
    usageLocation: 'DE',
    postalCode: '80331',
    street: 'Marienplatz 8',
    phonePrefix: '+49 89 5550',
  },
  {
    city: 'Paris',
    state: null,
    country: 'France',
    usageLocation: 'FR',
    postalCode: '75008',
    street: '12 Rue de la Paix',
    phonePrefix: '+33 1 5550',
  },
  {
    city: 'Amsterdam',
    state: 'North Holland',
    country: 'Netherlands',
    usageLocation: 'NL',
    postalCode: '1017',
    street: 'Herengracht 420',
    phonePrefix: '+31 20 555',
  },
  {
    city: 'Stockholm',
    state: null,
    country: 'Sweden',
    usageLocation: 'SE',
    postalCode: '111 52',
    street: 'Kungsgatan 5',
    phonePrefix: '+46 8 555',
  },
  {
    city: 'Warsaw',
    state: null,
    country: 'Poland',
    usageLocation: 'PL',
    postalCode: '00-001',
    street: 'Marszalkowska 1',
    phonePrefix: '+48 22 555',
  },
  {
    city: 'Madrid',
    state: null,
    country: 'Spain',
    usageLocation: 'ES',
    postalCode: '28013',
    street: 'Gran Via 28',
    phonePrefix: '+34 91 555',
  },
  {
    city: 'Sao Paulo',
    state: 'SP',
    country: 'Brazil',
    usageLocation: 'BR',
    postalCode: '01310-100',
    street: 'Av Paulista 1000',
    phonePrefix: '+55 11 5555',
  },
  {
    city: 'Bangalore',
    state: 'Karnataka',
    country: 'India',
    usageLocation: 'IN',
    postalCode: '560001',
    street: 'MG Road 42',
    phonePrefix: '+91 80 5555',
  },
  {
    city: 'Singapore',
    state: null,
    country: 'Singapore',
    usageLocation: 'SG',
    postalCode: '018956',
    street: '10 Marina Blvd',
    phonePrefix: '+65 6555',
  },
  {
    city: 'Tokyo',
    state: 'Tokyo',
    country: 'Japan',
    usageLocation: 'JP',
    postalCode: '100-0005',
    street: '1-1 Marunouchi',
    phonePrefix: '+81 3 5555',
  },
  {
    city: 'Sydney',
    state: 'NSW',
    country: 'Australia',
    usageLocation: 'AU',
    postalCode: '2000',
    street: '1 Martin Place',
    phonePrefix: '+61 2 5550',
  },
  {
    city: 'Johannesburg',
    state: 'Gauteng',
    country: 'South Africa',
    usageLocation: 'ZA',
    postalCode: '2196',
    street: '5 Rivonia Rd',
    phonePrefix: '+27 11 555',
  },
  {
    city: 'Dubai',
    state: null,
    country: 'United Arab Emirates',
    usageLocation: 'AE',
    postalCode: '00000',
    street: 'Sheikh Zayed Rd 1',
    phonePrefix: '+971 4 555',
  },
];

export const COMPANIES = [
  'Contoso Ltd',
  'Contoso Ltd',
  'Contoso Ltd',
  'Contoso Ltd',
  'Contoso Retail',
  'Contoso Manufacturing',
];
export const GUEST_DOMAINS = [
  'fabrikam.com',
  'northwindtraders.com',
  'adventure-works.com',
  'tailspintoys.com',
  'wingtiptoys.com',
  'litwareinc.com',
  'gmail.com',
  'outlook.com',
];
export const PROJECTS = [
  'Apollo',
  'Borealis',
  'Cascade',
  'Delta',
  'Everest',
  'Falcon',
  'Galaxy',
  'Horizon',
  'Iris',
  'Jupiter',
  'Kestrel',
  'Lighthouse',
  'Meridian',
  'Nova',
  'Orion',
  'Phoenix',
  'Quasar',
  'Redwood',
  'Summit',
  'Titan',
];
export const EMPLOYEE_TYPES = ['Employee', 'Employee', 'Employee', 'Contractor', 'Intern'];
