// React 19 passes properties and events straight to custom elements: `relay` and `strings` are set as
// properties, `oncobrowse-session-created` listens for that DOM event. No wrapper component needed.
import { useState } from 'react';
import { createRoot } from 'react-dom/client';
import 'cobrowse-sdk';

const relay = new URLSearchParams(location.search).get('relay') ?? 'ws://localhost:8080/relay';
const strings = { trigger: 'Share this tab' };

function App() {
  const [name, setName] = useState('');
  const [code, setCode] = useState('');
  const [renders, setRenders] = useState(0);
  return (
    <>
      <h1>Contact us</h1>
      <form onSubmit={(e) => e.preventDefault()}>
        <label>
          Name <input id="name" value={name} onChange={(e) => setName(e.target.value)} />
        </label>
        <p id="echo">Hello {name || 'nobody'}</p>
        <button id="rerender" type="button" onClick={() => setRenders(renders + 1)}>
          Re-render ({renders})
        </button>
      </form>
      <p id="session">{code && `Session ID ${code}`}</p>
      <cobrowse-launcher relay={relay} strings={strings} oncobrowse-session-created={(e) => setCode(e.detail.code)} />
    </>
  );
}

createRoot(document.getElementById('root')).render(<App />);
